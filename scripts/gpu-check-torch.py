#!/usr/bin/env python3
"""gpu-check-torch.py: the PyTorch throughput anchor for scripts/gpu-check.sh.

Trains the same network as sweep's fastnet with its trainable stem (what
BenchmarkGPU_Train/fastnet measures) on one fixed random batch, with the same
step: forward, label-smoothed cross-entropy, backward, SGD with Nesterov
momentum and weight decay. channels_last and bf16 autocast, as a PyTorch user
would run it. Prints one line "torch_img_per_s N" (N images per second over
the timed steps). Exits 3 with a "SKIP: ..." line when torch or a CUDA
device is missing, so the check can say SKIP instead of OK.
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    args = ap.parse_args()
    try:
        import torch
        from torch import nn
    except ImportError as e:
        print(f"SKIP: torch not importable ({e})")
        return 3
    if not torch.cuda.is_available():
        print(f"SKIP: torch {torch.__version__} sees no CUDA device")
        return 3

    def bn_relu(c):
        return [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]

    def group(cin, cout):  # conv, maxpool 2, BN+ReLU, conv, BN+ReLU
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2), *bn_relu(cout),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), *bn_relu(cout)]

    class Scale(nn.Module):
        def forward(self, x):
            return x * (1.0 / 9)

    # stem 3x3 3->24 + BN+ReLU (32x32), groups 64/256/256 (16, 8, 4), pool 4.
    net = nn.Sequential(nn.Conv2d(3, 24, 3, padding=1, bias=False), *bn_relu(24),
                        *group(24, 64), *group(64, 256), *group(256, 256),
                        nn.MaxPool2d(4), nn.Flatten(), nn.Linear(256, 10, bias=False), Scale())
    dev = torch.device("cuda")
    net = net.to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    g = torch.Generator(device="cpu").manual_seed(3)
    x = torch.randn(args.batch, 3, 32, 32, generator=g).to(dev).to(memory_format=torch.channels_last)
    y = (torch.arange(args.batch) % 10).to(dev)
    torch.backends.cudnn.benchmark = True

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    if not torch.isfinite(loss).item():
        print(f"torch: loss is {loss.item()} after {args.warmup + args.steps} steps")
        return 1
    print(f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}")
    print(f"torch_img_per_s {args.batch * args.steps / sec:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
