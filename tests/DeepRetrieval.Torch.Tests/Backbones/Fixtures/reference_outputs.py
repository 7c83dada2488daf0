# Forward-pass reference for the torchvision layouts (no torchvision here: plain-torch replicas of torchvision's
# resnet.py, mobilenetv2.py and mobilenetv3.py, including their forward methods). Every state-dict entry is filled with
# a deterministic function of its key and element index (TorchVisionForwardTests.cs fills the C# networks the same way),
# the input is sin(0.1 * i), and the eval-mode output is written to *.output.txt.
import math, torch, torch.nn as nn
torch.set_grad_enabled(False)

def md(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n

def cna(i, o, k=3, s=1, g=1, norm=nn.BatchNorm2d, act=nn.ReLU6):
    l = [nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), norm(o)]
    if act: l.append(act(inplace=True))
    return nn.Sequential(*l)

class BasicBlock(nn.Module):
    def __init__(s, inp, planes, stride, down):
        super().__init__()
        s.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(planes); s.relu = nn.ReLU(inplace=True)
        s.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(planes)
        s.downsample = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)) if down else None
    def forward(s, x):
        out = s.relu(s.bn1(s.conv1(x))); out = s.bn2(s.conv2(out))
        return s.relu(out + (s.downsample(x) if s.downsample is not None else x))

class ResNet18Features(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False); s.bn1 = nn.BatchNorm2d(64); s.relu = nn.ReLU(inplace=True); s.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = 64
        for i, planes in enumerate([64, 128, 256, 512]):
            st = 1 if i == 0 else 2
            setattr(s, "layer%d" % (i + 1), nn.Sequential(BasicBlock(inp, planes, st, st != 1 or inp != planes), BasicBlock(planes, planes, 1, False)))
            inp = planes
    def forward(s, x):
        x = s.maxpool(s.relu(s.bn1(s.conv1(x))))
        return s.layer4(s.layer3(s.layer2(s.layer1(x))))

class IR2(nn.Module):
    def __init__(s, i, o, st, t):
        super().__init__(); h = int(round(i * t)); l = []
        if t != 1: l.append(cna(i, h, 1))
        l += [cna(h, h, s=st, g=h), nn.Conv2d(h, o, 1, 1, 0, bias=False), nn.BatchNorm2d(o)]
        s.conv = nn.Sequential(*l); s.res = st == 1 and i == o
    def forward(s, x):
        return x + s.conv(x) if s.res else s.conv(x)

def v2():
    f = [cna(3, 32, s=2)]; c = 32
    for t, oc, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
        for i in range(n): f.append(IR2(c, oc, s if i == 0 else 1, t)); c = oc
    f.append(cna(c, 1280, 1)); return nn.Sequential(*f)

class SE(nn.Module):
    def __init__(s, c, q):
        super().__init__(); s.avgpool = nn.AdaptiveAvgPool2d(1); s.fc1 = nn.Conv2d(c, q, 1); s.fc2 = nn.Conv2d(q, c, 1)
        s.activation = nn.ReLU(); s.scale_activation = nn.Hardsigmoid()
    def forward(s, x):
        return s.scale_activation(s.fc2(s.activation(s.fc1(s.avgpool(x))))) * x

class IR3(nn.Module):
    def __init__(s, i, k, e, o, se, hs, st, norm):
        super().__init__(); a = nn.Hardswish if hs else nn.ReLU; l = []
        if e != i: l.append(cna(i, e, 1, norm=norm, act=a))
        l.append(cna(e, e, k, st, e, norm=norm, act=a))
        if se: l.append(SE(e, md(e // 4, 8)))
        l.append(cna(e, o, 1, norm=norm, act=None)); s.block = nn.Sequential(*l); s.res = st == 1 and i == o
    def forward(s, x):
        r = s.block(x)
        return r + x if s.res else r

def v3(cfg):
    norm = lambda c: nn.BatchNorm2d(c, eps=0.001, momentum=0.01)
    f = [cna(3, cfg[0][0], 3, 2, norm=norm, act=nn.Hardswish)]
    for b in cfg: f.append(IR3(*b, norm))
    f.append(cna(cfg[-1][3], 6 * cfg[-1][3], 1, norm=norm, act=nn.Hardswish)); return nn.Sequential(*f)

F, T = False, True
small = [(16,3,16,16,T,F,2),(16,3,72,24,F,F,2),(24,3,88,24,F,F,1),(24,5,96,40,T,T,2),(40,5,240,40,T,T,1),(40,5,240,40,T,T,1),(40,5,120,48,T,T,1),(48,5,144,48,T,T,1),(48,5,288,96,T,T,2),(96,5,576,96,T,T,1),(96,5,576,96,T,T,1)]

def fill(key, t):
    if key.endswith("num_batches_tracked"): return
    n = t.numel(); phase = len(key)
    w = torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + phase)
    if key.endswith("running_var"): v = 0.5 + 0.25 * (1 + w)
    elif key.endswith("running_mean"): v = 0.1 * w
    elif key.endswith("fc1.bias"): v = 8 + w  # squeeze activations above 6, where ReLU and ReLU6 differ
    elif t.dim() == 4: v = w * math.sqrt(2.0 / (t.shape[1] * t.shape[2] * t.shape[3]))
    elif key.endswith("weight"): v = 1 + 0.1 * w
    else: v = 0.1 * w
    t.copy_(v.reshape(t.shape).to(t.dtype))

for name, net, prefix in [("resnet18", ResNet18Features(), ""), ("mobilenet_v2", v2(), "features."), ("mobilenet_v3_small", v3(small), "features.")]:
    for k, t in net.state_dict().items(): fill(prefix + k, t)
    net.eval()
    x = torch.sin(0.1 * torch.arange(2 * 3 * 64 * 64, dtype=torch.float32)).reshape(2, 3, 64, 64)
    y = net(x)
    with open(name + ".output.txt", "w") as out:
        out.write(" ".join(str(d) for d in y.shape) + "\n")
        for v in y.flatten().tolist(): out.write("%.7e\n" % v)
