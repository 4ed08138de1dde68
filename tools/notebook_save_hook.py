"""Jupyter's pre-save hook for `./kit task notebook` (lib/setup/notebook_server.ts passes it as
`--FileContentsManager.pre_save_hook=notebook_save_hook.pre_save`).

Running cells in the browser must not change the committed notebooks: when the notebook being
saved has the same cells (types and sources) as the file on disk, the file's own content is
saved instead of the page's (no outputs, execution counts or front-end metadata), so the bytes
stay as `./kit task notebooks` wrote them from their sources notebooks/NN_*.ts (in nbformat's own
layout). A notebook whose cells the user edited is saved as usual.
"""
import json
import os


def _cells(nb):
    out = []
    for c in nb.get("cells", []):
        src = c.get("source", "")
        out.append((c.get("cell_type"), "".join(src) if isinstance(src, list) else src))
    return out


def pre_save(model, path, contents_manager, **kwargs):
    if model.get("type") != "notebook" or "content" not in model:
        return
    os_path = contents_manager._get_os_path(path)
    try:
        with open(os_path, encoding="utf-8") as f:
            on_disk = json.load(f)
    except (OSError, ValueError):
        return
    if _cells(model["content"]) == _cells(on_disk):
        model["content"] = on_disk
