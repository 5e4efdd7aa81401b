/**
 * Node titles the frontend shows differently from the server's display_name.
 * The frontend titles a node with its bundled English locale (`nodeDefs.<class>.display_name`)
 * and only falls back to the server's display_name for classes the locale lacks, so where the
 * locale is older or newer than the server, `_meta.title` follows the locale.
 * Extracted from comfyui-frontend-package 1.48.7 (en locale) against ComfyUI 0.33.0's /object_info;
 * the other 800 classes of that locale agree with the server.
 */
export const FRONTEND_LOCALE_TITLES: ReadonlyMap<string, string> = new Map([
  ['LTXVConcatAVLatent', 'LTXVConcatAVLatent'],
  ['LTXVSeparateAVLatent', 'LTXVSeparateAVLatent'],
  ['ByteDance2TextToVideoNode', 'ByteDance Seedance 2.0 Text to Video'],
  ['ByteDance2FirstLastFrameNode', 'ByteDance Seedance 2.0 First-Last-Frame to Video'],
  ['ByteDance2ReferenceNode', 'ByteDance Seedance 2.0 Reference to Video'],
  ['MinimaxHailuoVideoNode', 'MiniMax Hailuo Video'],
  ['RecraftTextToImageNode', 'Recraft Text to Image'],
  ['RecraftImageToImageNode', 'Recraft Image to Image'],
  ['RecraftTextToVectorNode', 'Recraft Text to Vector'],
  ['TopazImageEnhance', 'Topaz Image Enhance'],
]);

