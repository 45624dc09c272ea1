"""Inpainting Hub: a Gradio app (placeholder until the full app lands; classical models)."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

import hub  # noqa: E402
from hub.io import mask_from_array  # noqa: E402


def run(editor, model):
    if editor is None or editor.get("background") is None:
        raise gr.Error("Upload a photo first.")
    bg = np.asarray(editor["background"])
    rgb = bg[..., :3].astype(np.uint8)
    hole = np.zeros(rgb.shape[:2], bool)
    for layer in editor.get("layers") or []:
        hole |= mask_from_array(np.asarray(layer)) if np.asarray(layer).shape[:2] == hole.shape else False
    if not hole.any():
        raise gr.Error("Paint the area to fill with the brush.")
    return hub.inpaint(rgb, hole, model=model)


with gr.Blocks(title="Inpainting Hub", analytics_enabled=False) as demo:
    gr.Markdown("# Inpainting Hub")
    with gr.Row():
        with gr.Column():
            editor = gr.ImageEditor(type="numpy", image_mode="RGBA", sources=["upload"], layers=False, transforms=(),
                                    brush=gr.Brush(colors=["#ffffff"], color_mode="fixed"), elem_id="editor")
        with gr.Column():
            model = gr.Dropdown(hub.list_models(kind="classical"), value="cv2_telea", label="Model")
            btn = gr.Button("Run", variant="primary")
            out = gr.Image(label="Result")
    btn.click(run, [editor, model], out, api_name="inpaint")

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=1, max_size=16).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", os.environ.get("PORT", "7860"))),
        max_file_size="10mb",
    )
