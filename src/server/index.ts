export { ComfyServer, type ComfyServerEvents, type LogStream, type ServerState } from './comfy-server.js';
export type { LogMode, ServerOptions, ServerPaths } from './options.js';
export { DEFAULT_HOST, DEFAULT_LOG_BUFFER_LINES, DEFAULT_START_TIMEOUT_MS } from './options.js';
export { isPortFree, pickFreePort, type PortPicker } from './port.js';
export { stripAnsi } from './log-buffer.js';
export { matchReadyLine } from './readiness.js';
export { needsCpuFlag, nvidiaGpuVisible } from './device.js';
export { resolvePython } from './python.js';
