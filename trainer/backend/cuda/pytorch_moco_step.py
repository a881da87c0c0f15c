#!/usr/bin/env python3
"""Time one training step in PyTorch, to set beside `trainer bench --device cuda`.

Two steps, on random data already on the GPU (as trainer bench uses):
  --step moco        one MoCo step as trainer/moco runs it: momentum update of
                     the key encoder, keys of the shuffled second view, query
                     loss against the positive key and the queue, SGD step,
                     enqueue. Split batch norm in both encoders (the official
                     CIFAR demo's SplitBatchNorm; image i in group i mod S).
  --step supervised  forward, cross-entropy, backward, SGD: what trainer/bench
                     measures (10 classes for resnet18-cifar, else 1000).

The architectures are torchvision's; resnet18-cifar is resnet18 with a 3x3
stride-1 stem and no max-pool. Precision is FP32, with TF32 allowed or not in
both cuBLAS and cuDNN (--tf32), NCHW, cudnn.benchmark on (our backend also
times cuDNN's algorithms once per shape).

img/s is batch images per second of steps (a MoCo step sees each image twice,
once per view, and counts it once, like `trainer pretrain`).

Prints one JSON line. Written without a GPU at hand: never run yet.
"""

import argparse
import functools
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class SplitBatchNorm(nn.BatchNorm2d):
    """Batch norm over num_splits interleaved groups in training mode."""

    def __init__(self, num_features, num_splits):
        super().__init__(num_features)
        self.num_splits = num_splits

    def forward(self, x):
        s = self.num_splits
        if not self.training or s == 1:
            return super().forward(x)
        n, c, h, w = x.shape
        rm, rv = self.running_mean.repeat(s), self.running_var.repeat(s)
        out = F.batch_norm(x.view(-1, c * s, h, w), rm, rv, self.weight.repeat(s), self.bias.repeat(s),
                           True, self.momentum, self.eps).view(n, c, h, w)
        self.running_mean.copy_(rm.view(s, c).mean(0))
        self.running_var.copy_(rv.view(s, c).mean(0))
        return out


def network(arch, outputs, splits, mlp):
    norm = functools.partial(SplitBatchNorm, num_splits=splits) if splits > 1 else nn.BatchNorm2d
    base = "resnet18" if arch == "resnet18-cifar" else arch
    net = getattr(torchvision.models, base)(num_classes=outputs, norm_layer=norm)
    if arch == "resnet18-cifar":
        net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    if mlp:
        d = net.fc.in_features
        net.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), net.fc)
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet18-cifar", choices=["resnet18-cifar", "resnet18", "resnet34", "resnet50"])
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--input", type=int, default=0, help="image side (0: 32 for resnet18-cifar, else 224)")
    p.add_argument("--step", default="moco", choices=["moco", "supervised"])
    p.add_argument("--tf32", type=int, default=1, choices=[0, 1])
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--queue", type=int, default=4096)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--bn-splits", type=int, default=8)
    p.add_argument("--momentum", type=float, default=0.99, help="key encoder momentum")
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--mlp", action="store_true")
    p.add_argument("--lr", type=float, default=0.06)
    p.add_argument("--wd", type=float, default=5e-4)
    a = p.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    torch.manual_seed(1)
    size = a.input or (32 if a.arch == "resnet18-cifar" else 224)
    n = a.batch
    x1 = torch.randn(n, 3, size, size, device=dev)
    x2 = torch.randn(n, 3, size, size, device=dev)

    if a.step == "supervised":
        classes = 10 if a.arch == "resnet18-cifar" else 1000
        net = network(a.arch, classes, 1, False).to(dev).train()
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=a.wd)
        labels = torch.randint(0, classes, (n,), device=dev)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(x1), labels).backward()
            opt.step()
    else:
        q = network(a.arch, a.dim, a.bn_splits, a.mlp).to(dev).train()
        k = network(a.arch, a.dim, a.bn_splits, a.mlp).to(dev).train()
        k.load_state_dict(q.state_dict())
        for t in k.parameters():
            t.requires_grad = False
        qp, kp = list(q.parameters()), list(k.parameters())
        opt = torch.optim.SGD(qp, lr=a.lr, momentum=0.9, weight_decay=a.wd)
        queue = F.normalize(torch.randn(a.queue, a.dim, device=dev), dim=1)
        zeros = torch.zeros(n, dtype=torch.long, device=dev)
        ptr = [0]

        def step():
            with torch.no_grad():
                torch._foreach_mul_(kp, a.momentum)
                torch._foreach_add_(kp, qp, alpha=1 - a.momentum)
                perm = torch.randperm(n, device=dev)
                keys = F.normalize(k(x2[perm]), dim=1)[torch.argsort(perm)]
            qn = F.normalize(q(x1), dim=1)
            logits = torch.cat([(qn * keys).sum(1, keepdim=True), qn @ queue.t()], dim=1) / a.temperature
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(logits, zeros).backward()
            opt.step()
            with torch.no_grad():
                i = ptr[0]
                queue[i:i + n] = keys[: a.queue - i]
                ptr[0] = (i + n) % a.queue

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / a.steps
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "device": torch.cuda.get_device_name(dev),
        "step": a.step, "arch": a.arch, "batch": n, "input": size, "tf32": bool(a.tf32),
        "steps": a.steps, "step_seconds": seconds, "img_per_s": n / seconds,
    }))


if __name__ == "__main__":
    main()
