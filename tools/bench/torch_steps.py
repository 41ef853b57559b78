"""PyTorch side of `npm run bench` (bench/run.ts): the same steps as ours, single-threaded.

Run: /usr/bin/python3 tools/bench/torch_steps.py '{"batch":32,"size":64,"patch":8,"depth":12,"projHidden":512,
      "projOut":128,"predHidden":512,"temperature":0.2,"lambda":0.0051,"scaleLoss":0.024,"numPrototypes":1024,
      "studentTemperature":0.1,"teacherTemperature":0.04,"emaBase":0.996,"maskRatio":0.75,"normPixLoss":true,
      "decoderDim":192,"decoderDepth":4,"decoderHeads":12,"repeats":3,"warmup":1,"only":["mae_step"]}'
Prints one JSON object {case: median seconds}. Cases mirror bench/run.ts: torchvision resnet18 and a plain
ViT-Tiny (timm layout: pre-LN blocks, fused qkv, exact GELU, CLS token after the final LayerNorm) with a
Linear(d, 1) BCE head, SimCLR (NT-Xent) and BYOL (2 - 2cos, momentum copies) heads of the same widths, Barlow
Twins (3-layer BN projector, cross-correlation loss), DINO (MLP -> L2 norm -> weight-normalised prototypes, EMA
teacher, centring) and MAE (ViT-Tiny encoder with 12 heads and sin-cos positions, masked 75 %, transformer
decoder, norm-pix loss). Widths, K, decoder depth/width and temperatures come from the JSON (the bench's config).
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)  # main() sets the benchmark's thread count ("threads", default 1)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        qkv = self.qkv(h).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * (d // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VitTiny(nn.Module):
    def __init__(self, size, patch, depth, dim=192, heads=3, sincos=False):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        if sincos:
            # MAE's fixed 2-D sin-cos position embedding: a buffer, not a parameter.
            self.register_buffer("pos_embed", sincos_pos_embed(dim, size // patch))
        else:
            self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.feature_dim = dim

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)[:, 0]

    def forward_masked(self, x, mask_ratio):
        """MAE's forward_encoder: keep int(L(1 - ratio)) patches by argsort of uniform noise, prepend CLS."""
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        n, l, d = x.shape
        keep = int(l * (1 - mask_ratio))
        ids_shuffle = torch.argsort(torch.rand(n, l), dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        kept = torch.gather(x, 1, ids_shuffle[:, :keep, None].expand(-1, -1, d))
        mask = torch.ones(n, l)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        x = torch.cat([(self.cls_token + self.pos_embed[:, :1]).expand(n, -1, -1), kept], 1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore


def sincos_pos_embed(dim, grid):
    """[1, 1 + grid², dim]: zero row for CLS, then sin/cos of the (h, w) grid coordinates (MAE's layout)."""
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4.0))
    gh, gw = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                            indexing="ij")
    parts = []
    for coord in (gw.reshape(-1), gh.reshape(-1)):
        out = coord[:, None] * omega[None]
        parts += [torch.sin(out), torch.cos(out)]
    emb = torch.cat(parts, 1).float()
    return torch.cat([torch.zeros(1, dim), emb])[None]


class MaeDecoder(nn.Module):
    def __init__(self, num_patches, patch, enc_dim, dim, depth, heads):
        super().__init__()
        self.decoder_embed = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.register_buffer("decoder_pos_embed", sincos_pos_embed(dim, int(round(num_patches ** 0.5))))
        self.decoder_blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.decoder_norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_pred = nn.Linear(dim, patch * patch * 3)

    def forward(self, latent, ids_restore):
        x = self.decoder_embed(latent)
        n, t, d = x.shape
        l = ids_restore.shape[1]
        shuffled = torch.cat([x[:, 1:], self.mask_token.expand(n, l + 1 - t, -1)], 1)
        restored = torch.gather(shuffled, 1, ids_restore[:, :, None].expand(-1, -1, d))
        x = torch.cat([x[:, :1], restored], 1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]


def patchify(images, p):
    """[N, 3, S, S] -> [N, L, p*p*3] (MAE's order: row-major patches, each (p, p, C))."""
    n, c, s, _ = images.shape
    g = s // p
    x = images.reshape(n, c, g, p, g, p)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(n, g * g, p * p * c)


def mae_pixel_loss(pred, target, mask, norm_pix):
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)  # unbiased, as MAE
        target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()


def resnet18():
    net = torchvision.models.resnet18()
    net.fc = nn.Identity()
    net.feature_dim = 512
    return net


def byol_mlp(d, hidden, out):
    return nn.Sequential(nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out))


def barlow_projector(d, hidden, out):
    return nn.Sequential(
        nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, out),
    )


def barlow_loss(z1, z2, lam, scale):
    n, d = z1.shape
    bn = lambda z: (z - z.mean(0)) / (z.var(0, unbiased=False) + 1e-5).sqrt()
    c = bn(z1).t() @ bn(z2) / n
    eye = torch.eye(d)
    on_diag = ((1 - torch.diagonal(c)) ** 2).sum()
    off_diag = ((c * (1 - eye)) ** 2).sum()
    return scale * (on_diag + lam * off_diag)


class DinoHead(nn.Module):
    """mlp (Linear, ReLU, Linear, ReLU, Linear) -> L2 normalise
    -> weight-normalised Linear(bottleneck, K, bias=False)."""

    def __init__(self, d, hidden, bottleneck, k):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, bottleneck))
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, k, bias=False))
        self.last_layer.weight_g.data.fill_(1)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))


def dino_loss(student, teacher, center, t_student, t_teacher):
    q = [F.softmax((t - center) / t_teacher, dim=-1).detach() for t in teacher]
    logp = [F.log_softmax(s / t_student, dim=-1) for s in student]
    terms = [(-q[iq] * logp[iv]).sum(-1).mean() for iq in range(len(q)) for iv in range(len(logp)) if iq != iv]
    return sum(terms) / len(terms)


def decay_groups(params, weight_decay):
    """Weight decay on matrices only (the bench's excludeBiasAndNorm: <= 1-D parameters get none)."""
    params = list(params)
    return [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=-1)
    n = z1.shape[0]
    sim = torch.exp(z @ z.t() / t)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    pos = sim[torch.arange(2 * n), partner]
    allv = (sim * (1 - torch.eye(2 * n))).sum(1)
    return -torch.log(pos / allv).mean()


def byol_loss(p1, p2, z1, z2):
    term = lambda p, z: (2 - 2 * F.cosine_similarity(p, z.detach(), dim=-1)).mean()
    return (term(p2, z1) + term(p1, z2)) / 2


BEST = {}


def median_seconds(fn, warmup, repeats, name=None):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    if name:
        BEST[name + "_min"] = min(times)
    return statistics.median(times)


def blas_core():
    """The OpenBLAS core torch's matmuls run on (openblas_get_corename of the library loaded into this process)."""
    import ctypes

    with open("/proc/self/maps") as maps:
        libs = sorted({line.split()[-1] for line in maps if "openblas" in line and ".so" in line})
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            config = lib.openblas_get_config().decode().split(" NO_")[0]
            return "%s, core %s" % (config, lib.openblas_get_corename().decode())
        except (OSError, AttributeError):
            continue
    return "no OpenBLAS loaded"


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(int(cfg.get("threads", 1)))
    b, s = cfg["batch"], cfg["size"]
    views = [torch.randn(b, 3, s, s) for _ in range(2)]
    labels = (torch.rand(b) < 0.3).float()
    pos_weight = torch.tensor(3.0)
    out = {}
    only = set(cfg.get("only") or [])
    want = lambda name: not only or name in only

    def supervised(make, opt_kind):
        net = make()
        head = nn.Linear(net.feature_dim, 1)
        params = list(net.parameters()) + list(head.parameters())
        opt = (torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4) if opt_kind == "sgd"
               else torch.optim.AdamW(params, lr=1e-4, weight_decay=0.05))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(head(net(views[0])).reshape(-1), labels, pos_weight=pos_weight)
            loss.backward()
            opt.step()
            loss.item()

        def forward():
            with torch.no_grad():
                net(views[0]).sum().item()

        return net, step, forward

    if want("resnet_step") or want("resnet_forward"):
        _, step, forward = supervised(resnet18, "sgd")
        if want("resnet_step"):
            out["resnet_step"] = median_seconds(step, cfg["warmup"], cfg["repeats"], "resnet_step")
        if want("resnet_forward"):
            out["resnet_forward"] = median_seconds(forward, cfg["warmup"], cfg["repeats"], "resnet_forward")
    if want("vit_step") or want("vit_forward"):
        _, step, forward = supervised(lambda: VitTiny(s, cfg["patch"], cfg["depth"]), "adamw")
        if want("vit_step"):
            out["vit_step"] = median_seconds(step, cfg["warmup"], cfg["repeats"], "vit_step")
        if want("vit_forward"):
            out["vit_forward"] = median_seconds(forward, cfg["warmup"], cfg["repeats"], "vit_forward")
    if want("simclr_step"):
        net = resnet18()
        proj = nn.Sequential(nn.Linear(512, cfg["projHidden"]), nn.ReLU(), nn.Linear(cfg["projHidden"], cfg["projOut"]))
        opt = torch.optim.SGD(list(net.parameters()) + list(proj.parameters()), lr=0.01, momentum=0.9)

        def simclr():
            opt.zero_grad(set_to_none=True)
            loss = nt_xent(proj(net(views[0])), proj(net(views[1])), cfg["temperature"])
            loss.backward()
            opt.step()
            loss.item()

        out["simclr_step"] = median_seconds(simclr, cfg["warmup"], cfg["repeats"], "simclr_step")
    if want("byol_step"):
        net, net_m = resnet18(), resnet18()
        proj, proj_m = (byol_mlp(512, cfg["projHidden"], cfg["projOut"]),
                        byol_mlp(512, cfg["projHidden"], cfg["projOut"]))
        pred = byol_mlp(cfg["projOut"], cfg["predHidden"], cfg["projOut"])
        net_m.load_state_dict(net.state_dict())
        proj_m.load_state_dict(proj.state_dict())
        online = list(net.parameters()) + list(proj.parameters()) + list(pred.parameters())
        momentum = list(net_m.parameters()) + list(proj_m.parameters())
        opt = torch.optim.SGD(online, lr=0.01, momentum=0.9)

        def byol():
            opt.zero_grad(set_to_none=True)
            z = [proj(net(v)) for v in views]
            p = [pred(zi) for zi in z]
            with torch.no_grad():
                zm = [proj_m(net_m(v)) for v in views]
            loss = byol_loss(p[0], p[1], zm[0], zm[1])
            loss.backward()
            opt.step()
            with torch.no_grad():
                for m, o in zip(momentum, list(net.parameters()) + list(proj.parameters())):
                    m.mul_(0.996).add_(o, alpha=0.004)
            loss.item()

        out["byol_step"] = median_seconds(byol, cfg["warmup"], cfg["repeats"], "byol_step")
    if want("barlow_step"):
        net = resnet18()
        proj = barlow_projector(512, cfg["projHidden"], cfg["projOut"])
        opt = torch.optim.SGD(decay_groups(list(net.parameters()) + list(proj.parameters()), 1e-4),
                              lr=0.01, momentum=0.9)

        def barlow():
            opt.zero_grad(set_to_none=True)
            z = [proj(net(v)) for v in views]
            loss = barlow_loss(z[0], z[1], cfg["lambda"], cfg["scaleLoss"])
            loss.backward()
            opt.step()
            loss.item()

        out["barlow_step"] = median_seconds(barlow, cfg["warmup"], cfg["repeats"], "barlow_step")
    if want("dino_step"):
        net, net_m = resnet18(), resnet18()
        head = DinoHead(512, cfg["projHidden"], cfg["projOut"], cfg["numPrototypes"])
        head_m = DinoHead(512, cfg["projHidden"], cfg["projOut"], cfg["numPrototypes"])
        net_m.load_state_dict(net.state_dict())
        head_m.load_state_dict(head.state_dict())
        online = list(net.parameters()) + list(head.parameters())
        momentum = list(net_m.parameters()) + list(head_m.parameters())
        opt = torch.optim.AdamW(decay_groups(online, 0.05), lr=1e-4)
        center = torch.zeros(1, cfg["numPrototypes"])

        def dino():
            nonlocal center
            opt.zero_grad(set_to_none=True)
            student = [head(net(v)) for v in views]
            with torch.no_grad():
                teacher = [head_m(net_m(v)) for v in views]
            loss = dino_loss(student, teacher, center, cfg["studentTemperature"], cfg["teacherTemperature"])
            loss.backward()
            opt.step()
            with torch.no_grad():
                center = center * 0.9 + torch.cat(teacher).mean(0, keepdim=True) * 0.1
                for m, o in zip(momentum, online):
                    m.mul_(cfg["emaBase"]).add_(o, alpha=1 - cfg["emaBase"])
            loss.item()

        out["dino_step"] = median_seconds(dino, cfg["warmup"], cfg["repeats"], "dino_step")
    if want("mae_step"):
        enc = VitTiny(s, cfg["patch"], cfg["depth"], heads=12, sincos=True)
        dec = MaeDecoder((s // cfg["patch"]) ** 2, cfg["patch"], 192,
                         cfg["decoderDim"], cfg["decoderDepth"], cfg["decoderHeads"])
        opt = torch.optim.AdamW(decay_groups(list(enc.parameters()) + list(dec.parameters()), 0.05), lr=1e-4)

        def mae():
            opt.zero_grad(set_to_none=True)
            # Ours also runs the unmasked encoder on both views (the features the trainer's probe reads detached);
            # they are on the tape but the loss does not depend on them, so only their forward costs.
            features = [enc(v) for v in views]
            losses = []
            for v in views:
                latent, mask, ids_restore = enc.forward_masked(v, cfg["maskRatio"])
                losses.append(mae_pixel_loss(dec(latent, ids_restore), patchify(v, cfg["patch"]), mask,
                                             cfg["normPixLoss"]))
            loss = sum(losses) / len(losses)
            loss.backward()
            opt.step()
            loss.item()
            del features

        out["mae_step"] = median_seconds(mae, cfg["warmup"], cfg["repeats"], "mae_step")
    # Raw throughput of one GEMM and one convolution: the ceiling the steps above run into.
    if want("gemm"):
        a, w = torch.randn(2080, 192), torch.randn(192, 768)
        out["gemm"] = median_seconds(lambda: (a @ w).sum().item(), cfg["warmup"], cfg["repeats"], "gemm")
    if want("conv3x3"):
        x, w = torch.randn(b, 64, 16, 16), torch.randn(64, 64, 3, 3)
        out["conv3x3"] = median_seconds(lambda: F.conv2d(x, w, padding=1).sum().item(),
                                        cfg["warmup"], cfg["repeats"], "conv3x3")
    out.update(BEST)
    out["torch_version"] = torch.__version__
    out["blas"] = blas_core()
    out["threads"] = torch.get_num_threads()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
