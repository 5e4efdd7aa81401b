"""Test-only ComfyUI nodes for comfy-connector's recorder and integration tests.

Core ComfyUI APIs only, no weights, no extra packages. Loaded through
test/comfy-nodes/extra_model_paths.yaml (custom_nodes key), never installed into ComfyUI itself.
"""

import time

import torch
from PIL import Image

import comfy.model_management
import comfy.utils


class ComfyConnectorSlowCounter:
    """Counts to `steps`, sleeping `delay_ms` per step and reporting progress.

    Checks the interrupt flag every step, so POST /interrupt stops it deterministically
    at the next step; the sleep makes "a prompt is running" last long enough to observe.
    """

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "steps": ("INT", {"default": 10, "min": 1, "max": 10000}),
                "delay_ms": ("INT", {"default": 100, "min": 0, "max": 60000}),
            },
            "optional": {
                "image": ("IMAGE",),
                # Sends a small JPEG with every step, like a sampler's latent preview: the only way to
                # get step previews without model weights.
                "send_preview": ("BOOLEAN", {"default": False}),
            },
        }

    RETURN_TYPES = ("IMAGE", "INT")
    RETURN_NAMES = ("image", "count")
    FUNCTION = "count"
    CATEGORY = "comfy_connector/testing"
    OUTPUT_NODE = True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        # Always run again: the recorder re-queues the same prompt to make it wait or be interrupted.
        return float("nan")

    def count(self, steps, delay_ms, image=None, send_preview=False):
        bar = comfy.utils.ProgressBar(steps)
        for i in range(steps):
            comfy.model_management.throw_exception_if_processing_interrupted()
            time.sleep(delay_ms / 1000.0)
            preview = None
            if send_preview:
                shade = int(255 * (i + 1) / steps)
                preview = ("JPEG", Image.new("RGB", (64, 64), (shade, 0, 255 - shade)), 512)
            bar.update_absolute(i + 1, steps, preview)
        if image is None:
            image = torch.zeros((1, 8, 8, 3), dtype=torch.float32)
        return {"ui": {"count": [steps]}, "result": (image, steps)}


class ComfyConnectorRaise:
    """Raises RuntimeError(message) when executed: a deterministic node failure."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "message": ("STRING", {"default": "ComfyConnectorRaise was asked to fail"}),
            },
            "optional": {
                "image": ("IMAGE",),
            },
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "fail"
    CATEGORY = "comfy_connector/testing"
    OUTPUT_NODE = True

    def fail(self, message, image=None):
        raise RuntimeError(message)


NODE_CLASS_MAPPINGS = {
    "ComfyConnectorSlowCounter": ComfyConnectorSlowCounter,
    "ComfyConnectorRaise": ComfyConnectorRaise,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "ComfyConnectorSlowCounter": "Slow Counter (comfy-connector test)",
    "ComfyConnectorRaise": "Raise (comfy-connector test)",
}
