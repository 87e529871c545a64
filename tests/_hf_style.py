"""A tiny Hugging Face-style text classifier and dataset, written here (no download, no
transformers): keyword inputs, an output object with ``.logits``, dict samples."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.utils.data import Dataset

VOCAB, DIM, CLASSES, LENGTH = 24, 6, 3, 7


class SequenceClassifierOutput(OrderedDict):
    """Like transformers' ModelOutput: a mapping whose items are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error


class TinyTextClassifier(nn.Module):
    """Embedding, masked mean pooling, a tanh layer and a linear head."""

    def __init__(self, seed: int = 0, dtype=torch.float32):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.embed = nn.Embedding(VOCAB, DIM)
        self.hidden = nn.Linear(DIM, DIM)
        self.head = nn.Linear(DIM, CLASSES)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.7)
        self.to(dtype)

    def forward(self, input_ids, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(self.embed.weight.dtype)
        pooled = (self.embed(input_ids) * mask).sum(1) / mask.sum(1)
        return SequenceClassifierOutput(logits=self.head(torch.tanh(self.hidden(pooled))))


class TokenDataset(Dataset):
    """Dict samples: ``input_ids``, ``attention_mask`` (integers) and ``labels``."""

    def __init__(self, n: int = 48, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.input_ids = torch.randint(0, VOCAB, (n, LENGTH), generator=generator)
        lengths = torch.randint(2, LENGTH + 1, (n,), generator=generator)
        self.attention_mask = (torch.arange(LENGTH)[None, :] < lengths[:, None]).long()
        self.labels = self.input_ids[:, 0] % CLASSES

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return {"input_ids": self.input_ids[index], "attention_mask": self.attention_mask[index],
                "labels": self.labels[index]}


def trained_text_classifier(seed: int, data: TokenDataset, steps: int = 150):
    """A :class:`TinyTextClassifier` fitted by full-batch Adam (near a minimum, so its
    Hessian trace is positive)."""
    model = TinyTextClassifier(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        out = model(input_ids=data.input_ids, attention_mask=data.attention_mask)
        loss = nn.functional.cross_entropy(out.logits, data.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.requires_grad_(True)


def text_forward(model, batch):
    """The hook: keyword inputs in, the output object and the labels out."""
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]), \
        batch["labels"]


class DictImages(Dataset):
    """The samples of a ``TensorDataset(x, y)`` as dicts with an extra item."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        return {"pixels": self.x[index], "label": self.y[index], "index": index}


def image_forward(model, batch):
    return model(batch["pixels"]), batch["label"]
