"""Running sums of one epoch, kept on the device: loss and top-1/top-5 hits, summed without a host sync per step."""

from __future__ import annotations

import torch

from inceptcost.train import ddp


class EpochSums:
    """Loss and hit counts summed on the device (no host sync per step)."""

    FIELDS = ("loss", "top1", "top5", "count", "nonfinite", "seconds")

    def __init__(self, device: torch.device):
        self.t = torch.zeros(len(self.FIELDS), dtype=torch.float64, device=device)

    def add(self, loss: torch.Tensor, total: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        top1, top5 = hits(logits, y)
        n = y.numel()
        self.t[:5] += torch.stack(
            [loss.double() * n, top1, top5, self.t.new_tensor(n), (~torch.isfinite(total)).double()]
        )

    def global_totals(self, ctx: ddp.DistContext) -> torch.Tensor:
        return ddp.all_reduce_sum(self.t.clone(), ctx)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.t[self.FIELDS.index(name)]


def hits(logits: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    k = min(5, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    match = top == y[:, None]
    return match[:, 0].sum().double(), match.any(dim=1).sum().double()
