// API-format prompts the scenarios queue. Core nodes needing no weights, plus the test pack's nodes.

export type ApiPrompt = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: { title: string } }>;

export function savedImagePrompt(prefix: string): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0x3366cc } },
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
    '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix }, _meta: { title: 'Save inverted' } },
    '4': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
  };
}

/** pixel_space VAE needs no weights; a 1024×1024 image with 64 px tiles gives many progress ticks (some survive the 100 ms throttle). */
export function tiledVaePrompt(): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 1024, height: 1024, batch_size: 1, color: 0x884422 } },
    '2': { class_type: 'VAELoader', inputs: { vae_name: 'pixel_space' } },
    '3': {
      class_type: 'VAEEncodeTiled',
      inputs: { pixels: ['1', 0], vae: ['2', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 },
    },
    '4': {
      class_type: 'VAEDecodeTiled',
      inputs: { samples: ['3', 0], vae: ['2', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 },
    },
    '5': { class_type: 'PreviewImage', inputs: { images: ['4', 0] } },
  };
}

export function slowCounterPrompt(steps: number, delayMs: number, sendPreview = false): ApiPrompt {
  return {
    '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs, send_preview: sendPreview } },
  };
}

export function previewFramesPrompt(withCounter: boolean): ApiPrompt {
  const prompt: ApiPrompt = {
    '1': { class_type: 'EmptyImage', inputs: { width: 32, height: 32, batch_size: 1, color: 0x00ff00 } },
    '2': { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
  };
  if (withCounter) {
    prompt['3'] = { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 3, delay_ms: 50, send_preview: true, image: ['1', 0] } };
  }
  return prompt;
}

/** SaveImage refuses a prefix that leaves the output folder: a core node failing at run time. */
export function coreRaisePrompt(): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: '../../cc_escape' } },
  };
}

export function testRaisePrompt(message: string): ApiPrompt {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
    '2': { class_type: 'ComfyConnectorRaise', inputs: { message, image: ['1', 0] } },
  };
}
