"""Checkpoints that load no pickles (DESIGN.md, "Checkpoints and runs").

    <out>/checkpoints/step-00000100/
        model.safetensors        the encoder, its heads and their BatchNorm statistics
        optimizer.safetensors    AdamW's moments and step counts
        extra.safetensors        the MEP/OE key queues and every rank's torch RNG state
        state.json               step, resolved config, data position of every task stream on every
                                 rank, numpy/python RNG states, scheduler state, optimizer param groups
    <out>/checkpoints/latest     the name of the newest complete checkpoint

A checkpoint is written to ``step-N.tmp`` and renamed when complete, so a crash never leaves a
half-written one; ``latest`` is replaced atomically after the rename.
"""

from __future__ import annotations

import json
import os
import shutil

import torch
from safetensors.torch import load_file, save_file

from xlkit_core.errors import XlkitError

LATEST = "latest"


class CheckpointError(XlkitError):
    pass


def _optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    state: dict[int, dict] = {}
    for name, v in list(tensors.items()) + list(meta["scalars"].items()):
        pid, k = name.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    groups = meta["param_groups"]
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


def save(out: str, step: int, model: torch.nn.Module, opt, scheduler, state: dict,
         extra_tensors: dict[str, torch.Tensor], keep: int = 3) -> str:
    """Write checkpoint ``step`` of run ``out`` (call on rank 0 only); returns its directory."""
    root = os.path.join(out, "checkpoints")
    os.makedirs(root, exist_ok=True)
    name = f"step-{step:08d}"
    final, tmp = os.path.join(root, name), os.path.join(root, name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(_dedup_shared(weights), os.path.join(tmp, "model.safetensors"))
    opt_tensors, opt_meta = _optimizer_tensors(opt)
    save_file(opt_tensors, os.path.join(tmp, "optimizer.safetensors"))
    save_file({k: v.contiguous() for k, v in extra_tensors.items()}, os.path.join(tmp, "extra.safetensors"))
    doc = dict(state, step=step, optimizer=opt_meta, scheduler=scheduler.state_dict())
    with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    with open(os.path.join(root, LATEST + ".tmp"), "w") as f:
        f.write(name + "\n")
    os.replace(os.path.join(root, LATEST + ".tmp"), os.path.join(root, LATEST))
    done = sorted(d for d in os.listdir(root) if d.startswith("step-") and not d.endswith(".tmp"))
    for old in done[:-keep] if keep > 0 else []:
        shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    return final


def _dedup_shared(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share memory (the tied decoder/embedding); keep one copy."""
    seen: dict[tuple, str] = {}
    out = {}
    for k, v in sorted(weights.items(), key=lambda kv: ".decoder." in kv[0]):   # keep the embedding's name
        key = (v.data_ptr(), v.shape, v.stride()) if v.numel() else (k,)
        if key in seen:
            continue
        seen[key] = k
        out[k] = v
    return out


def resolve(path: str) -> str:
    """A checkpoint directory, or a run directory (its latest checkpoint)."""
    if os.path.exists(os.path.join(path, "state.json")):
        return path
    for root in (os.path.join(path, "checkpoints"), path):
        latest = os.path.join(root, LATEST)
        if os.path.exists(latest):
            with open(latest) as f:
                return os.path.join(root, f.read().strip())
    raise CheckpointError(f"{path} is neither a checkpoint (no state.json) nor a run directory with "
                          "checkpoints/latest")


def read_state(path: str) -> dict:
    with open(os.path.join(path, "state.json"), encoding="utf-8") as f:
        return json.load(f)


def load_weights(path: str, model: torch.nn.Module) -> None:
    weights = load_file(os.path.join(path, "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    tied = {k for k in missing if k.endswith("lm_head.decoder.weight") or k.endswith("lm_head.decoder.bias")}
    if set(missing) - tied or unexpected:
        raise CheckpointError(f"{path}: the model does not match the checkpoint (missing {sorted(set(missing) - tied)[:5]}, "
                              f"unexpected {sorted(unexpected)[:5]}); resume with the checkpoint's config")


def load(path: str, model: torch.nn.Module, opt, scheduler) -> tuple[dict, dict[str, torch.Tensor]]:
    """Restore model, optimizer and scheduler in place; returns (state.json, extra tensors)."""
    state = read_state(path)
    load_weights(path, model)
    _load_optimizer(opt, load_file(os.path.join(path, "optimizer.safetensors")), state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return state, load_file(os.path.join(path, "extra.safetensors"))
