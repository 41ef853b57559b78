#!/usr/bin/env python3
"""Rebuild a run's backbone and classifier in PyTorch from its weight files alone, and check them.

    python3 tools/load_in_torch.py runs/results/<run id>            # backbone.safetensors, classifier.safetensors,
                                                                     # reference_batch.safetensors in that folder
    python3 tools/load_in_torch.py --backbone B.safetensors [--classifier C.safetensors] [--reference R.safetensors]

The backbone's architecture comes from the file's metadata (written by lib/train/run.ts, `architectureFormat`
ssl-ad-backbone/1): ResNet-18 is torchvision's `resnet18` with `fc = Identity()`; the ViTs are the minimal
VisionTransformer below, whose parameter names are timm's (`timm.create_model('vit_tiny_patch16_224',
img_size=S, patch_size=p, depth=d, num_heads=h, num_classes=0)` loads the same file). The classifier is a
Linear(featureDim, 1) whose keys (`weight`, `bias`) load into torchvision's `fc` unchanged; when the run's probe
standardised its features the file also holds `norm.running_mean`/`norm.running_var`/`norm.num_batches_tracked`
of a BatchNorm1d(featureDim, affine=False) applied first (`ProbeHead` below, keys unchanged). A Gauss-Newton
probe's file also holds `curvature`, the running curvature its training step used; scoring does not need it, so it is
set aside here.

The check runs the reference batch (validation images already resized and normalised, NCHW) through both in eval
mode and compares with the features and logits the project computed: |ours - torch| <= tol * (1 + |ours|).
Prints one JSON line; exits 1 when a difference exceeds --tolerance (default 1e-4), 2 on a file problem.
Needs only torch and torchvision (Debian: python3-torch python3-torchvision); reads safetensors itself.
"""
import argparse
import json
import os
import struct
import sys

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


class FileProblem(Exception):
    pass


def read_safetensors(path):
    """(tensors by name, metadata) of a .safetensors file, without the safetensors package."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise FileProblem(f"{path}: {err.strerror}")
    if len(data) < 8:
        raise FileProblem(f"{path}: too short for a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + header_len])
    except ValueError as err:
        raise FileProblem(f"{path}: header is not JSON ({err})")
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + header_len:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:
            raise FileProblem(f"{path}: tensor {name}: unsupported dtype {entry['dtype']}")
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def meta_value(metadata, key, source):
    if key not in metadata:
        raise FileProblem(f"{source}: metadata has no '{key}' "
                          "(files written before architecture metadata; retrain or re-export the run)")
    value = metadata[key]
    try:
        return json.loads(value)
    except ValueError:
        return value


# --- a minimal ViT with timm's parameter names ------------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, round(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """timm's VisionTransformer with class-token pooling and no head: images [N, 3, S, S] -> CLS feature [N, D]."""

    def __init__(self, image_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, qkv_bias=True, eps=1e-6):
        super().__init__()
        if image_size % patch_size:
            raise FileProblem(f"image size {image_size} is not divisible by patch size {patch_size}")
        tokens = 1 + (image_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, embed_dim))
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio, qkv_bias, eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=eps)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.norm(x)[:, 0]


class ProbeHead(nn.Linear):
    """Linear(in, 1), optionally after a BatchNorm1d without affine parameters named `norm`
    (the probe's standardisation)."""

    def __init__(self, in_features, standardize, eps):
        super().__init__(in_features, 1)
        self.norm = nn.BatchNorm1d(in_features, affine=False, eps=eps) if standardize else None

    def forward(self, x):
        return super().forward(self.norm(x) if self.norm is not None else x)


def build_backbone(metadata, source):
    kind = meta_value(metadata, "kind", source)
    pooling = meta_value(metadata, "pooling", source)
    if kind == "resnet18":
        import torchvision
        layers = meta_value(metadata, "layers", source)
        if layers != [2, 2, 2, 2] or pooling != "avg":
            raise FileProblem(f"{source}: resnet18 with layers {layers} and pooling {pooling} "
                              "is not torchvision's resnet18")
        model = torchvision.models.resnet18()
        model.fc = nn.Identity()
        return model
    if kind in ("vit_tiny", "mae_vit_tiny"):
        if pooling != "cls":
            raise FileProblem(f"{source}: ViT pooling {pooling} is not supported (only cls)")
        return VisionTransformer(
            image_size=meta_value(metadata, "imageSize", source), patch_size=meta_value(metadata, "patchSize", source),
            embed_dim=meta_value(metadata, "embedDim", source), depth=meta_value(metadata, "depth", source),
            num_heads=meta_value(metadata, "numHeads", source), mlp_ratio=meta_value(metadata, "mlpRatio", source),
            qkv_bias=meta_value(metadata, "qkvBias", source), eps=meta_value(metadata, "layerNormEps", source))
    raise FileProblem(f"{source}: unknown backbone kind '{kind}' (resnet18, vit_tiny, mae_vit_tiny)")


def load_strict(module, tensors, source):
    result = module.load_state_dict(tensors, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise FileProblem(f"{source}: missing keys {result.missing_keys}, unexpected keys {result.unexpected_keys}")


def compare(ours, theirs, tolerance):
    diff = (ours.double() - theirs.double()).abs()
    allowed = tolerance * (1 + ours.double().abs())
    return {"maxAbsDiff": float(diff.max()), "ok": bool((diff <= allowed).all()), "shape": list(ours.shape)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", help="a run folder holding the three files")
    parser.add_argument("--backbone")
    parser.add_argument("--classifier")
    parser.add_argument("--reference")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args(argv)
    if args.run_dir:
        args.backbone = args.backbone or os.path.join(args.run_dir, "backbone.safetensors")
        args.classifier = args.classifier or os.path.join(args.run_dir, "classifier.safetensors")
        args.reference = args.reference or os.path.join(args.run_dir, "reference_batch.safetensors")
    if not args.backbone:
        parser.error("give a run folder or --backbone")
    torch.manual_seed(0)
    torch.set_grad_enabled(False)

    weights, metadata = read_safetensors(args.backbone)
    backbone = build_backbone(metadata, args.backbone)
    load_strict(backbone, weights, args.backbone)
    backbone.eval()
    architecture = {k: meta_value(metadata, k, args.backbone) for k in sorted(metadata) if k not in ("format", "runId")}
    report = {"backbone": args.backbone, "kind": metadata["kind"], "architecture": architecture}

    head = None
    if args.classifier:
        head_weights, head_meta = read_safetensors(args.classifier)
        head_weights.pop("curvature", None)
        default_standardize = "true" if "norm.running_mean" in head_weights else "false"
        standardize = head_meta.get("classifierStandardize", default_standardize) == "true"
        feature_dim = int(meta_value(metadata, "featureDim", args.backbone))
        head = ProbeHead(feature_dim, standardize, float(head_meta.get("classifierNormEps", "1e-6")))
        load_strict(head, head_weights, args.classifier)
        head.eval()

    ok = True
    if args.reference:
        ref, _ = read_safetensors(args.reference)
        size = meta_value(metadata, "imageSize", args.backbone)
        if list(ref["images"].shape[1:]) != [3, size, size]:
            raise FileProblem(f"{args.reference}: images {list(ref['images'].shape)} "
                              f"do not match the backbone's input [N, 3, {size}, {size}]")
        features = backbone(ref["images"])
        report["features"] = compare(ref["features"], features, args.tolerance)
        ok = ok and report["features"]["ok"]
        if head is not None:
            report["logits"] = compare(ref["logits"], head(features).reshape(-1), args.tolerance)
            ok = ok and report["logits"]["ok"]
    report["ok"] = ok
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FileProblem as err:
        print(f"load_in_torch: {err}", file=sys.stderr)
        sys.exit(2)
