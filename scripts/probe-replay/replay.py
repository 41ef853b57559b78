"""Replay online-probe variants on a stream recorded by record.ts and score them on the run's final clean features.

    /usr/bin/python3 scripts/probe-replay/replay.py STREAM RUN_DIR '[{"kind": "sgd"}, {"kind": "gauss-newton"}]'

RUN_DIR is the recorded run's folder; it needs `frozen_features.safetensors` (written by `npx ssl-ad probe --run ID`).
The files are read with tools/load_in_torch.py's reader, so this needs python3-torch as that script does.
Every variant standardises each view by its batch statistics (BatchNorm1d without affine, momentum 0.1, eps 1e-6),
takes the weighted BCE with pos_weight = n_normal / n_defect of the training set, averages over the views, and steps
momentum SGD (0.9) with the run's warm-up + cosine schedule on lr · batch / 256, as lib/train does. Options:
  kind     "sgd" | "whiten" (gradient times the inverse running covariance of the inputs) | "gauss-newton" |
           "fit" (a converged class-weighted logistic regression, C = 1, on the views of the last two epochs: the
           ceiling of a probe trained on augmented views)
  lr       probe lr at batch 256 (default: the run's probe.lr)
  steps    optimiser steps per recorded batch (default 1)
  decay    running curvature / covariance decay per step (default 0.99)
  damping  λ relative to the mean diagonal (default 1e-3)
  bound    gauss-newton with p(1 - p) replaced by its bound 1/4
  recal    standardise the validation features with the clean training images' statistics instead of the running ones
Prints val AUROC, F1 at logit 0 and the share predicted defect, on the 45 % validation set.
"""
import json
import os
import sys

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from load_in_torch import FileProblem, read_safetensors  # noqa: E402  (the project's reader, errors name the file)


def read_stream(path):
    raw = np.fromfile(path, dtype=np.uint8)
    offset, steps = 0, []
    while offset < len(raw):
        _, views, rows, width = np.frombuffer(raw[offset : offset + 16], dtype=np.int32)
        offset += 16
        labels = np.frombuffer(raw[offset : offset + 4 * rows], dtype=np.float32).astype(np.float64)
        offset += 4 * rows
        features = []
        for _ in range(views):
            size = 4 * rows * width
            features.append(np.frombuffer(raw[offset : offset + size], dtype=np.float32).reshape(rows, width))
            offset += size
        steps.append((labels, [f.astype(np.float64) for f in features]))
    return steps


def warmup_cosine(step, total, warmup, base, start, minimum):
    if step < warmup:
        return start + step * (base - start) / max(warmup - 1, 1)
    return minimum + 0.5 * (base - minimum) * (1 + np.cos(np.pi * (step - warmup) / (total - warmup)))


def replay(stream, config, pos_weight, variant):
    kind = variant.get("kind", "sgd")
    width = stream[0][1][0].shape[1] + 1  # the bias is the last coordinate
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(width - 1)
    w = rng.uniform(-bound, bound, width)
    velocity = np.zeros(width)
    running_mean, running_var = np.zeros(width - 1), np.ones(width - 1)
    curvature = np.eye(width) * 0.25
    decay, damping = variant.get("decay", 0.99), variant.get("damping", 1e-3)
    total = len(stream)
    warmup = total // config["epochs"] * config["optimizer"]["warmupEpochs"]
    scale = config["batchSize"] / 256
    base = variant.get("lr", config["probe"]["lr"]) * scale
    start = config["optimizer"]["warmupStartLr"] * scale
    for step, (labels, views) in enumerate(stream):
        inputs = []
        for f in views:
            n = len(f)
            mean, var = f.mean(0), f.var(0)
            running_mean = 0.9 * running_mean + 0.1 * mean
            running_var = 0.9 * running_var + 0.1 * var * n / (n - 1)
            inputs.append(np.hstack([(f - mean) / np.sqrt(var + 1e-6), np.ones((n, 1))]))
        weight = np.where(labels == 1, pos_weight, 1.0)
        lr = warmup_cosine(step, total, warmup, base, start, config["optimizer"]["minLr"])
        for _ in range(variant.get("steps", 1)):
            grad, batch_curvature = np.zeros(width), np.zeros((width, width))
            for x in inputs:
                p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
                grad += x.T @ (weight * (p - labels)) / len(x) / len(inputs)
                if kind == "gauss-newton":
                    s = weight * (0.25 if variant.get("bound") else p * (1 - p))
                    batch_curvature += (x * s[:, None]).T @ x / len(x) / len(inputs)
                elif kind == "whiten":
                    batch_curvature += x.T @ x / len(x) / len(inputs)
            if kind != "sgd":
                curvature = decay * curvature + (1 - decay) * batch_curvature
                damped = curvature + damping * np.trace(curvature) / width * np.eye(width)
                grad = np.linalg.solve(damped, grad)
                if kind == "whiten":
                    grad *= np.trace(curvature) / width
            velocity = 0.9 * velocity + grad
            w = w - lr * velocity
    return w, running_mean, running_var


def fit_last_epochs(stream, config, pos_weight):
    from sklearn.linear_model import LogisticRegression

    last = stream[-2 * (len(stream) // config["epochs"]) :]
    x = np.concatenate([f for _, views in last for f in views])
    y = np.concatenate([labels for labels, views in last for _ in views])
    mean, var = x.mean(0), x.var(0)
    model = LogisticRegression(C=1.0, class_weight={0: 1.0, 1: pos_weight}, max_iter=5000)
    model.fit((x - mean) / np.sqrt(var + 1e-6), y)
    return np.append(model.coef_[0], model.intercept_[0]), mean, var


def main():
    stream_path, run_dir, variants = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    config = json.load(open(f"{run_dir}/config.json"))
    try:
        tensors, metadata = read_safetensors(f"{run_dir}/frozen_features.safetensors")
    except FileProblem as err:
        sys.exit(f"replay.py: {err} (write it with `npx ssl-ad probe --run ID`)")
    frozen = {name: t.numpy() for name, t in tensors.items()}
    shares = json.loads(metadata["evalProportions"])
    rows = frozen[f"eval_{shares.index(0.45)}_rows"]
    val_x = frozen["val_features"][rows].astype(np.float64)
    val_y = frozen["val_defect"][rows]
    train_x = frozen["train_features"].astype(np.float64)
    train_y = frozen["train_defect"]
    pos_weight = (train_y == 0).sum() / (train_y == 1).sum()
    stream = read_stream(stream_path)
    print(f"{len(stream)} steps, pos_weight {pos_weight:.3f}")
    for variant in variants:
        if variant.get("kind") == "fit":
            w, mean, var = fit_last_epochs(stream, config, pos_weight)
        else:
            w, mean, var = replay(stream, config, pos_weight, variant)
        if variant.get("recal"):
            mean, var = train_x.mean(0), train_x.var(0)
        logits = (val_x - mean) / np.sqrt(var + 1e-6) @ w[:-1] + w[-1]
        auroc, f1 = roc_auc_score(val_y, logits), f1_score(val_y, logits > 0)
        print(f"  {json.dumps(variant):60s} auroc {auroc:.3f}  f1 {f1:.3f}  predicted defect {np.mean(logits > 0):.2f}")


if __name__ == "__main__":
    main()
