#!/usr/bin/env python3
"""CIFAR-10 with PyTorch: the article's recipe, as a training script sweep tunes
with objective `command` (see examples/command-pytorch.yaml).

ResNet18 (CIFAR variant: 3x3 stem, no max-pool, `width` channels in the first
stage), the classic augmentations (RandomResizedCrop, flip, rotation,
ColorJitter, RandomGrayscale, RandomErasing, scaled by `aug_strength`) or the
cheap ones (reflect-pad crop, flip, cutout), SGD or AdamW, layer-wise learning
rates, label smoothing, cosine / step / onecycle schedules, and mixed precision
on CUDA. Needs only torch (no torchvision, no numpy): the data are the
CIFAR-10 binary files, augmented in batches on the training device.

Settings come from, in increasing priority: DEFAULTS below, the JSON object
in SWEEP_PARAMS (sweep sets it), and --name=value arguments (sweep appends
one per param, so both carry the trial's params). By hand:

    python3 examples/command/pytorch_cifar10.py --epochs=2 --train_limit=2000 --width=16

Each epoch prints one JSON line, {"step": epoch, "val_acc": ..., "train_loss":
...}, which sweep reports to the pruner and stores as metrics; the last line
has no step and carries the final val_acc and test_acc. Validation images are
held out of the training batches (`val_size`); the test set is used only for
the final test_acc.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = {
    # data
    "data_dir": "",          # CIFAR-10 binaries; "" = $SWEEP_DATA, else data/cifar10
    "train_limit": 45000,    # training images used (after the validation split)
    "val_size": 5000,        # held out of the 50,000 training images
    "test_limit": 10000,
    "split_seed": 0,
    # model
    "width": 64,             # channels of the first stage (64 = ResNet18)
    # optimiser
    "optimizer": "sgd",      # sgd | adamw
    "lr": 0.1,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,
    "beta1": 0.9,
    "beta2": 0.999,
    "layer_lr": "classic",   # classic: stem 0.1x, stage1 0.5x, stage2-3 1x, stage4 2x | none
    # schedule
    "scheduler": "onecycle", # constant | step | cosine | onecycle
    "step_size": 10,         # epochs, for step
    "gamma": 0.1,
    "pct_start": 0.25,       # onecycle
    # budget
    "epochs": 30,
    "batch_size": 128,
    # regularisation
    "smoothing": 0.1,
    "aug_preset": "classic", # classic | cheap | none
    "aug_strength": 1.0,     # 0..1 scales the classic recipe
    # run
    "amp": True,             # fp16 autocast + loss scaling on CUDA
    "threads": 0,            # CPU threads; 0 = torch's default
    "seed": -1,              # -1 = the trial number
    "checkpoint": False,     # save final weights to $SWEEP_TRIAL_DIR/model.pt
}

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def settings(argv):
    """DEFAULTS < SWEEP_PARAMS < --name=value, each coerced to the default's type."""
    cfg = dict(DEFAULTS)
    given = json.loads(os.environ.get("SWEEP_PARAMS") or "{}")
    for arg in argv:
        if not arg.startswith("--") or "=" not in arg:
            sys.exit("usage: pytorch_cifar10.py [--name=value ...] (got %r)" % arg)
        key, value = arg[2:].split("=", 1)
        given[key] = value
    for key, value in given.items():
        if key not in cfg:
            sys.exit("unknown setting %r (known: %s)" % (key, ", ".join(sorted(cfg))))
        kind = type(DEFAULTS[key])
        if kind is bool and isinstance(value, str):
            value = value.lower() in ("1", "true", "yes")
        cfg[key] = kind(value)
    return cfg


# ---------------------------------------------------------------- data

def load_cifar10(cfg):
    """Returns (train_x, train_y, val_x, val_y, test_x, test_y): uint8 NCHW images, int64 labels."""
    root = cfg["data_dir"] or os.environ.get("SWEEP_DATA") or "data/cifar10"

    def read(name):
        path = os.path.join(root, name)
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            raw = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).view(-1, 3073)
        return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].long()

    parts = [p for p in (read("data_batch_%d.bin" % i) for i in range(1, 6)) if p is not None]
    if not parts:
        sys.exit("no CIFAR-10 binaries in %s (set data_dir or SWEEP_DATA; `sweep data fetch` downloads them)" % root)
    x = torch.cat([p[0] for p in parts])
    y = torch.cat([p[1] for p in parts])
    split = torch.Generator().manual_seed(cfg["split_seed"])
    perm = torch.randperm(len(x), generator=split)
    val, train = perm[: cfg["val_size"]], perm[cfg["val_size"]:][: cfg["train_limit"]]
    test = read("test_batch.bin")
    test_x, test_y = (test[0][: cfg["test_limit"]], test[1][: cfg["test_limit"]]) if test else (x[:0], y[:0])
    return x[train], y[train], x[val], y[val], test_x, test_y


def normalize(x):
    """uint8 NCHW -> float, CIFAR-normalised."""
    return normalize_float(x.float() / 255)


def gray(x):
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def augment(x, cfg, gen):
    """Augments a uint8 batch on its device; returns normalised floats."""
    s, n, dev = cfg["aug_strength"], x.shape[0], x.device
    x = x.float() / 255

    def u(lo, hi, size=(n,)):
        return torch.rand(size, generator=gen, device=dev) * (hi - lo) + lo

    if cfg["aug_preset"] == "classic" and s > 0:
        # RandomResizedCrop(scale (1-0.2s, 1), ratio 3/4..4/3), flip p 0.5s and
        # rotation ±15s degrees, as one affine resampling per image.
        area, logr = u(1 - 0.2 * s, 1.0), u(math.log(3 / 4), math.log(4 / 3))
        w = torch.sqrt(area * torch.exp(logr)).clamp(max=1)
        h = torch.sqrt(area / torch.exp(logr)).clamp(max=1)
        tx, ty = u(-1, 1) * (1 - w), u(-1, 1) * (1 - h)
        angle = u(-15 * s, 15 * s) * math.pi / 180
        flip = torch.where(u(0, 1) < 0.5 * s, -1.0, 1.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([w * cos * flip, -h * sin, tx], 1),
                             torch.stack([w * sin * flip, h * cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        # ColorJitter(0.4s, 0.4s, 0.4s, 0.1s) with p 0.8s.
        on = (u(0, 1) < 0.8 * s).float().view(n, 1, 1, 1)
        j = x * u(1 - 0.4 * s, 1 + 0.4 * s).view(n, 1, 1, 1)
        m = gray(j).mean(dim=(1, 2, 3), keepdim=True)
        j = (j - m) * u(1 - 0.4 * s, 1 + 0.4 * s).view(n, 1, 1, 1) + m
        g = gray(j)
        j = (j - g) * u(1 - 0.4 * s, 1 + 0.4 * s).view(n, 1, 1, 1) + g
        j = hue_shift(j, u(-0.1 * s, 0.1 * s))
        x = (on * j + (1 - on) * x).clamp(0, 1)
        # RandomGrayscale p 0.2s.
        on = (u(0, 1) < 0.2 * s).float().view(n, 1, 1, 1)
        x = on * gray(x).expand_as(x) + (1 - on) * x
        x = normalize_float(x)
        # RandomErasing p 0.5s, scale (0.02s, 0.1s), ratio 0.3..3.3.
        return erase(x, u, p=0.5 * s, area=(0.02 * s, 0.1 * s), logratio=(math.log(0.3), math.log(3.3)))
    if cfg["aug_preset"] == "cheap":
        # Reflect-pad 4 + random crop (a whole-pixel shift), flip, 8x8 cutout.
        shift = torch.randint(-4, 5, (n, 2), generator=gen, device=dev).float() / 16
        flip = torch.where(u(0, 1) < 0.5, -1.0, 1.0)
        zero, one = torch.zeros(n, device=dev), torch.ones(n, device=dev)
        theta = torch.stack([torch.stack([flip, zero, shift[:, 0]], 1), torch.stack([zero, one, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="nearest", padding_mode="reflection", align_corners=False)
        x = normalize_float(x)
        return erase(x, u, p=1.0, area=(0.0625, 0.0625), logratio=(0.0, 0.0))
    return normalize_float(x)


def normalize_float(x):
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def hue_shift(x, h):
    """Rotates hue by h turns (per image) in YIQ space."""
    a = (h * 2 * math.pi).view(-1, 1, 1)
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], device=x.device)
    from_yiq = torch.linalg.inv(to_yiq)
    cos, sin = torch.cos(a), torch.sin(a)
    one, zero = torch.ones_like(cos), torch.zeros_like(cos)
    rot = torch.cat([torch.cat([one, zero, zero], 2), torch.cat([zero, cos, -sin], 2), torch.cat([zero, sin, cos], 2)], 1)
    m = from_yiq @ rot @ to_yiq  # (n, 3, 3)
    return torch.einsum("nij,njhw->nihw", m, x)


def erase(x, u, p, area, logratio):
    """Zeroes one random rectangle per image with probability p."""
    n, _, hh, ww = x.shape
    a = u(area[0], area[1] + 1e-9) * hh * ww
    r = torch.exp(u(logratio[0], logratio[1] + 1e-9))
    eh = torch.sqrt(a * r).clamp(1, hh).round()
    ew = torch.sqrt(a / r).clamp(1, ww).round()
    y0 = (u(0, 1) * (hh - eh + 1)).floor()
    x0 = (u(0, 1) * (ww - ew + 1)).floor()
    ys = torch.arange(hh, device=x.device).view(1, hh, 1)
    xs = torch.arange(ww, device=x.device).view(1, 1, ww)
    box = (ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1)) & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1))
    box = box & (u(0, 1) < p).view(n, 1, 1)
    return x.masked_fill(box.unsqueeze(1), 0.0)


# ---------------------------------------------------------------- model

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet18: stem, four stages of two blocks, pooled linear head."""

    def __init__(self, width=64, classes=10):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True))
        stages, cin = [], w
        for i, (cout, stride) in enumerate([(w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)]):
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.stage1, self.stage2, self.stage3, self.stage4 = stages
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.stage4(self.stage3(self.stage2(self.stage1(self.stem(x)))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


LAYER_LR = {"classic": {"stem": 0.1, "stage1": 0.5, "stage2": 1.0, "stage3": 1.0, "stage4": 2.0, "head": 1.0}}


def param_groups(model, cfg):
    """One group per part and decay kind; batch-norm weights and biases get no decay."""
    mult = LAYER_LR.get(cfg["layer_lr"], {})
    groups = []
    for part in ("stem", "stage1", "stage2", "stage3", "stage4", "head"):
        decay, plain = [], []
        for p in getattr(model, part).parameters():
            (decay if p.ndim > 1 else plain).append(p)
        lr = cfg["lr"] * mult.get(part, 1.0)
        groups.append({"params": decay, "lr": lr, "weight_decay": cfg["weight_decay"]})
        groups.append({"params": plain, "lr": lr, "weight_decay": 0.0})
    return groups


def make_optimizer(model, cfg):
    groups = param_groups(model, cfg)
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=cfg["lr"], momentum=cfg["momentum"], nesterov=cfg["nesterov"] and cfg["momentum"] > 0)
    if cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(groups, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]))
    sys.exit("unknown optimizer %r (want sgd or adamw)" % cfg["optimizer"])


def make_scheduler(opt, cfg, steps_per_epoch):
    """A per-iteration schedule over the whole run."""
    total = cfg["epochs"] * steps_per_epoch
    kind = cfg["scheduler"]
    if kind == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
                                                   total_steps=total, pct_start=cfg["pct_start"])
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg["step_size"] * steps_per_epoch, gamma=cfg["gamma"])
    if kind == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    sys.exit("unknown scheduler %r (want constant, step, cosine or onecycle)" % kind)


# ---------------------------------------------------------------- loop

def evaluate(model, x, y, device, criterion):
    """Returns (accuracy, mean loss) over uint8 images x."""
    if len(x) == 0:
        return float("nan"), float("nan")
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            xb = normalize(x[i:i + 500].to(device))
            yb = y[i:i + 500].to(device)
            with torch.autocast(device.type, enabled=device.type == "cuda"):
                out = model(xb)
            loss += criterion(out.float(), yb).item() * len(yb)
            correct += (out.argmax(1) == yb).sum().item()
    return correct / len(x), loss / len(x)


def main():
    cfg = settings(sys.argv[1:])
    seed = cfg["seed"] if cfg["seed"] >= 0 else int(os.environ.get("SWEEP_TRIAL", "0"))
    torch.manual_seed(seed)
    if cfg["threads"] > 0:
        torch.set_num_threads(cfg["threads"])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = cfg["amp"] and device.type == "cuda"
    print("settings %s device %s amp %s" % (json.dumps(cfg), device, amp), file=sys.stderr, flush=True)

    train_x, train_y, val_x, val_y, test_x, test_y = load_cifar10(cfg)
    model = ResNet18(cfg["width"]).to(device).to(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg)
    bs = cfg["batch_size"]
    steps_per_epoch = max(1, len(train_x) // bs)
    sched = make_scheduler(opt, cfg, steps_per_epoch)
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg["smoothing"])
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    images_x, images_y = train_x.to(device), train_y.to(device)

    start, val_acc = time.time(), float("nan")
    for epoch in range(1, cfg["epochs"] + 1):
        model.train()
        t0, seen, loss_sum = time.time(), 0, 0.0
        order = torch.randperm(len(train_x), generator=gen, device=device)
        for i in range(steps_per_epoch):
            idx = order[i * bs:(i + 1) * bs]
            xb = augment(images_x[idx], cfg, gen).contiguous(memory_format=torch.channels_last)
            yb = images_y[idx]
            with torch.autocast(device.type, enabled=amp):
                loss = criterion(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            loss_sum += loss.item() * len(yb)
            seen += len(yb)
        took = time.time() - t0
        val_acc, val_loss = evaluate(model, val_x, val_y, device, criterion)
        print(json.dumps({"step": epoch, "val_acc": val_acc, "val_loss": val_loss, "train_loss": loss_sum / max(seen, 1),
                          "lr": opt.param_groups[0]["lr"] / LAYER_LR.get(cfg["layer_lr"], {}).get("stem", 1.0),
                          "img_per_s": seen / max(took, 1e-9), "wall_s": time.time() - start}), flush=True)
    test_acc, _ = evaluate(model, test_x, test_y, device, criterion)
    if cfg["checkpoint"]:
        torch.save(model.state_dict(), os.path.join(os.environ.get("SWEEP_TRIAL_DIR", "."), "model.pt"))
    # No step: the trial's final value, with the test accuracy as an attr.
    print(json.dumps({"val_acc": val_acc, "test_acc": test_acc}), flush=True)


if __name__ == "__main__":
    main()
