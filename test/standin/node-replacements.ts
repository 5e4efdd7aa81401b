// GET /node_replacements of ComfyUI v0.33.0: what comfy_extras/nodes_replacements.py registers at
// start (NodeReplaceManager.as_dict()), transcribed from that file's literal NodeReplace(...) calls in
// registration order. The recording (test/fixtures/comfyui-0.33.0) does not hold this route; the
// contract suite (test/contract/protocol.test.ts) compares it with real ComfyUI's answer.
export const NODE_REPLACEMENTS: Record<string, unknown[]> = {
  "ResizeImagesByLongerEdge": [
    {"new_node_id": "ImageScaleToMaxDimension", "old_node_id": "ResizeImagesByLongerEdge", "old_widget_ids": ["longer_edge"], "input_mapping": [{"new_id": "image", "old_id": "images"}, {"new_id": "largest_size", "old_id": "longer_edge"}, {"new_id": "upscale_method", "set_value": "lanczos"}], "output_mapping": [{"new_idx": 0, "old_idx": 0}]},
  ],
  "ImageBatch": [
    {"new_node_id": "BatchImagesNode", "old_node_id": "ImageBatch", "old_widget_ids": null, "input_mapping": [{"new_id": "images.image0", "old_id": "image1"}, {"new_id": "images.image1", "old_id": "image2"}], "output_mapping": null},
  ],
  "ImageScaleBy": [
    {"new_node_id": "ResizeImageMaskNode", "old_node_id": "ImageScaleBy", "old_widget_ids": ["upscale_method", "scale_by"], "input_mapping": [{"new_id": "input", "old_id": "image"}, {"new_id": "resize_type", "set_value": "scale by multiplier"}, {"new_id": "resize_type.multiplier", "old_id": "scale_by"}, {"new_id": "scale_method", "old_id": "upscale_method"}], "output_mapping": null},
  ],
  "T2IAdapterLoader": [
    {"new_node_id": "ControlNetLoader", "old_node_id": "T2IAdapterLoader", "old_widget_ids": null, "input_mapping": [{"new_id": "control_net_name", "old_id": "t2i_adapter_name"}], "output_mapping": null},
  ],
  "Load3DAnimation": [
    {"new_node_id": "Load3D", "old_node_id": "Load3DAnimation", "old_widget_ids": null, "input_mapping": null, "output_mapping": null},
  ],
  "Preview3DAnimation": [
    {"new_node_id": "Preview3D", "old_node_id": "Preview3DAnimation", "old_widget_ids": null, "input_mapping": null, "output_mapping": null},
  ],
  "SDV_img2vid_Conditioning": [
    {"new_node_id": "SVD_img2vid_Conditioning", "old_node_id": "SDV_img2vid_Conditioning", "old_widget_ids": null, "input_mapping": null, "output_mapping": null},
  ],
  "ConditioningAverage ": [
    {"new_node_id": "ConditioningAverage", "old_node_id": "ConditioningAverage ", "old_widget_ids": null, "input_mapping": null, "output_mapping": null},
  ],
};
