# Re-creates torchvision's mobilenetv2.py / mobilenetv3.py feature layouts with plain torch (no torchvision here)
# to count parameters and list state-dict keys of `features`.
import torch.nn as nn
def md(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n
def cna(i, o, k=3, s=1, g=1, norm=nn.BatchNorm2d, act=nn.ReLU6):
    l = [nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), norm(o)]
    if act: l.append(act(inplace=True))
    return nn.Sequential(*l)
class IR2(nn.Module):
    def __init__(s, i, o, st, t):
        super().__init__(); h = int(round(i * t)); l = []
        if t != 1: l.append(cna(i, h, 1))
        l += [cna(h, h, s=st, g=h), nn.Conv2d(h, o, 1, 1, 0, bias=False), nn.BatchNorm2d(o)]
        s.conv = nn.Sequential(*l)
def v2():
    f = [cna(3, 32, s=2)]; c = 32
    for t, oc, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
        for i in range(n): f.append(IR2(c, oc, s if i == 0 else 1, t)); c = oc
    f.append(cna(c, 1280, 1)); return nn.Sequential(*f)
class SE(nn.Module):
    def __init__(s, c, q):
        super().__init__(); s.avgpool = nn.AdaptiveAvgPool2d(1); s.fc1 = nn.Conv2d(c, q, 1); s.fc2 = nn.Conv2d(q, c, 1); s.activation = nn.ReLU(); s.scale_activation = nn.Hardsigmoid()
class IR3(nn.Module):
    def __init__(s, i, k, e, o, se, hs, st, norm):
        super().__init__(); a = nn.Hardswish if hs else nn.ReLU; l = []
        if e != i: l.append(cna(i, e, 1, norm=norm, act=a))
        l.append(cna(e, e, k, st, e, norm=norm, act=a))
        if se: l.append(SE(e, md(e // 4, 8)))
        l.append(cna(e, o, 1, norm=norm, act=None)); s.block = nn.Sequential(*l)
def v3(cfg):
    norm = lambda c: nn.BatchNorm2d(c, eps=0.001, momentum=0.01)
    f = [cna(3, cfg[0][0], 3, 2, norm=norm, act=nn.Hardswish)]
    for b in cfg: f.append(IR3(*b, norm))
    f.append(cna(cfg[-1][3], 6 * cfg[-1][3], 1, norm=norm, act=nn.Hardswish)); return nn.Sequential(*f)
F, T = False, True
large = [(16,3,16,16,F,F,1),(16,3,64,24,F,F,2),(24,3,72,24,F,F,1),(24,5,72,40,T,F,2),(40,5,120,40,T,F,1),(40,5,120,40,T,F,1),(40,3,240,80,F,T,2),(80,3,200,80,F,T,1),(80,3,184,80,F,T,1),(80,3,184,80,F,T,1),(80,3,480,112,T,T,1),(112,3,672,112,T,T,1),(112,5,672,160,T,T,2),(160,5,960,160,T,T,1),(160,5,960,160,T,T,1)]
small = [(16,3,16,16,T,F,2),(16,3,72,24,F,F,2),(24,3,88,24,F,F,1),(24,5,96,40,T,T,2),(40,5,240,40,T,T,1),(40,5,240,40,T,T,1),(40,5,120,48,T,T,1),(48,5,144,48,T,T,1),(48,5,288,96,T,T,2),(96,5,576,96,T,T,1),(96,5,576,96,T,T,1)]
for name, f in [("mobilenet_v2", v2()), ("mobilenet_v3_small", v3(small)), ("mobilenet_v3_large", v3(large))]:
    sd = list(f.state_dict())
    print(name, sum(p.numel() for p in f.parameters()), len(list(f.parameters())), len(list(f.buffers())), sd[:1], [k for k in sd if 'fc1' in k][:2], sd[-1])

# State-dict keys and shapes of `features`, prefixed "features.", as torchvision names them (the *.keys.txt fixtures).
for name, f in [("mobilenet_v2", v2()), ("mobilenet_v3_small", v3(small)), ("mobilenet_v3_large", v3(large))]:
    with open(name + ".keys.txt", "w") as out:
        for k, v in f.state_dict().items():
            out.write("features.%s %s\n" % (k, "x".join(str(d) for d in v.shape)))
