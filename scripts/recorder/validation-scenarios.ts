// Prompts that POST /prompt rejects at validation, one scenario per error type ComfyUI reports.
import type { Scenario } from './scenarios.js';
import type { ApiPrompt } from './prompts.js';

/** A rejected prompt: the 400 (or 200) reply, then a short settle so any stray message would show. */
function validation(name: string, description: string, prompt: () => unknown, body?: (clientId: string) => unknown): Scenario {
  return {
    name,
    description,
    featureFlags: false,
    requires: [],
    async run(s) {
      await s.http('POST', '/prompt', body ? body(s.clientId) : { prompt: prompt(), client_id: s.clientId });
      await new Promise((r) => setTimeout(r, 500));
      s.note('waited 500 ms: a rejected prompt sends no WebSocket message');
    },
  };
}

const image = (): ApiPrompt[string] => ({ class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } });
const save = (from: string): ApiPrompt[string] => ({ class_type: 'SaveImage', inputs: { images: [from, 0], filename_prefix: 'cc_invalid' } });

export const VALIDATION_SCENARIOS: Scenario[] = [
  validation('validation-no-prompt', 'POST /prompt without a "prompt" key → 400 no_prompt.', () => null, (client_id) => ({ client_id })),
  validation('validation-missing-node-type', 'An unknown class_type → 400 missing_node_type.', () => ({
    '1': image(),
    '2': { class_type: 'NoSuchNodeClass', inputs: { images: ['1', 0] } },
    '3': save('1'),
  })),
  validation('validation-required-input-missing', 'SaveImage without its images input → required_input_missing.', () => ({
    '1': { class_type: 'SaveImage', inputs: { filename_prefix: 'cc_invalid' } },
  })),
  validation('validation-invalid-input-type', 'EmptyImage width "wide" → invalid_input_type.', () => ({
    '1': { class_type: 'EmptyImage', inputs: { width: 'wide', height: 8, batch_size: 1, color: 0 } },
    '2': save('1'),
  })),
  validation('validation-value-not-in-list', 'VAELoader vae_name "nope.safetensors" → value_not_in_list.', () => ({
    '1': image(),
    '2': { class_type: 'VAELoader', inputs: { vae_name: 'nope.safetensors' } },
    '3': { class_type: 'VAEEncode', inputs: { pixels: ['1', 0], vae: ['2', 0] } },
    '4': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['2', 0] } },
    '5': save('4'),
  })),
  validation('validation-value-smaller-than-min', 'EmptyImage width 0 (min 1) → value_smaller_than_min.', () => ({
    '1': { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } },
    '2': save('1'),
  })),
  validation('validation-value-bigger-than-max', 'EmptyImage height 99999 (max 16384) → value_bigger_than_max.', () => ({
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 99999, batch_size: 1, color: 0 } },
    '2': save('1'),
  })),
  validation('validation-bad-linked-input', 'A link given as ["1"] (no slot) → bad_linked_input.', () => ({
    '1': image(),
    '2': { class_type: 'SaveImage', inputs: { images: ['1'], filename_prefix: 'cc_invalid' } },
  })),
  validation('validation-link-to-missing-node', 'A link to node "99" that does not exist → exception_during_validation.', () => ({
    '2': { class_type: 'SaveImage', inputs: { images: ['99', 0], filename_prefix: 'cc_invalid' } },
  })),
  validation('validation-return-type-mismatch', 'An IMAGE output linked to a LATENT input → return_type_mismatch.', () => ({
    '1': image(),
    '2': { class_type: 'VAELoader', inputs: { vae_name: 'pixel_space' } },
    '3': { class_type: 'VAEDecode', inputs: { samples: ['1', 0], vae: ['2', 0] } },
    '4': save('3'),
  })),
  validation('validation-custom-validation-failed', 'LoadImage of a file that is not in input/ → custom_validation_failed (VALIDATE_INPUTS).', () => ({
    '1': { class_type: 'LoadImage', inputs: { image: 'cc_no_such_file.png' } },
    '2': save('1'),
  })),
  validation('validation-missing-class-type', 'A node without class_type → 400 missing_node_type with class_type null.', () => ({
    '1': { inputs: {} },
    '2': save('1'),
  })),
  validation('validation-dependency-cycle', 'ImageBlend ↔ ImageInvert linked in a loop → dependency_cycle on both nodes.', () => ({
    '1': image(),
    '2': { class_type: 'ImageBlend', inputs: { image1: ['1', 0], image2: ['3', 0], blend_factor: 0.5, blend_mode: 'normal' } },
    '3': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
    '4': save('3'),
  })),
  validation('validation-exception-during-inner-validation', 'An upstream node without "inputs" → exception_during_inner_validation on it.', () => ({
    '1': { class_type: 'EmptyImage' },
    '2': save('1'),
  })),
  validation('validation-bad-output-slot', 'A link to output slot 5 of a one-output node → exception_during_validation (IndexError).', () => ({
    '1': image(),
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 5], filename_prefix: 'cc_invalid' } },
  })),
  validation(
    'validation-partial-targets-none-match',
    'partial_execution_targets naming no output node of the prompt → 400 prompt_no_outputs.',
    () => null,
    (client_id) => ({ prompt: { '1': image(), '2': save('1') }, client_id, partial_execution_targets: ['9'] }),
  ),
  validation('validation-prompt-no-outputs', 'Only non-output nodes → 400 prompt_no_outputs.', () => ({
    '1': image(),
    '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
  })),
];
