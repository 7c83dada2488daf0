# Re-creates torchvision's resnet.py module layout with plain torch (no torchvision here) and writes the state-dict keys
# and shapes without fc (the *.keys.txt fixtures).
import torch.nn as nn
class Bottleneck(nn.Module):
    expansion = 4
    def __init__(s, inp, planes, stride, groups, wpg, down):
        super().__init__(); w = int(planes * (wpg / 64.)) * groups
        s.conv1 = nn.Conv2d(inp, w, 1, bias=False); s.bn1 = nn.BatchNorm2d(w)
        s.conv2 = nn.Conv2d(w, w, 3, stride, 1, groups=groups, bias=False); s.bn2 = nn.BatchNorm2d(w)
        s.conv3 = nn.Conv2d(w, planes * 4, 1, bias=False); s.bn3 = nn.BatchNorm2d(planes * 4)
        s.relu = nn.ReLU(inplace=True)
        s.downsample = nn.Sequential(nn.Conv2d(inp, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)) if down else None
class BasicBlock(nn.Module):
    expansion = 1
    def __init__(s, inp, planes, stride, groups, wpg, down):
        super().__init__()
        s.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(planes); s.relu = nn.ReLU(inplace=True)
        s.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(planes)
        s.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)) if down else None
class ResNet(nn.Module):
    def __init__(s, block, layers, groups=1, wpg=64):
        super().__init__()
        s.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False); s.bn1 = nn.BatchNorm2d(64); s.relu = nn.ReLU(inplace=True); s.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = 64
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            blocks = []
            for b in range(n):
                st = (1 if i == 0 else 2) if b == 0 else 1
                blocks.append(block(inp, planes, st, groups, wpg, b == 0 and (st != 1 or inp != planes * block.expansion)))
                inp = planes * block.expansion
            setattr(s, "layer%d" % (i + 1), nn.Sequential(*blocks))
for name, net in [("resnet18", ResNet(BasicBlock, [2, 2, 2, 2])), ("resnext50_32x4d", ResNet(Bottleneck, [3, 4, 6, 3], 32, 4))]:
    with open(name + ".keys.txt", "w") as out:
        for k, v in net.state_dict().items():
            out.write("%s %s\n" % (k, "x".join(str(d) for d in v.shape)))
