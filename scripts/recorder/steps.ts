// The fixture step format; test/fixtures/README.md documents it for the stand-in. Keep both in step.

export interface BinaryBodyDescription {
  contentType: string;
  length: number;
  sha256: string;
}

export interface HttpStep {
  kind: 'http';
  method: string;
  path: string;
  requestBody?: unknown;
  status: number;
  contentType: string;
  body: unknown;
}

export interface WsMessageStep {
  kind: 'ws';
  message: { type: string; data: unknown };
}

export interface WsBinaryStep {
  kind: 'ws-binary';
  eventType: number;
  length: number;
  imageFormat?: number;
  metadata?: unknown;
  nodeId?: string;
  text?: string;
}

export interface NoteStep {
  kind: 'note';
  text: string;
}

export type Step = HttpStep | WsMessageStep | WsBinaryStep | NoteStep;

export interface ScenarioFile {
  name: string;
  description: string;
  clientId: string;
  featureFlags: boolean;
  steps: Step[];
}
