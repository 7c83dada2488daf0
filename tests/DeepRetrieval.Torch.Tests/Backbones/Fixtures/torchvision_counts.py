import torch.nn as nn
def bott(inp, planes, stride, groups, wpg, down):
    w = int(planes*(wpg/64.))*groups
    m=[nn.Conv2d(inp,w,1,bias=False),nn.BatchNorm2d(w),nn.Conv2d(w,w,3,stride,1,groups=groups,bias=False),nn.BatchNorm2d(w),nn.Conv2d(w,planes*4,1,bias=False),nn.BatchNorm2d(planes*4)]
    if down: m+=[nn.Conv2d(inp,planes*4,1,stride,bias=False),nn.BatchNorm2d(planes*4)]
    return m
def basic(inp, planes, stride, g,w, down):
    m=[nn.Conv2d(inp,planes,3,stride,1,bias=False),nn.BatchNorm2d(planes),nn.Conv2d(planes,planes,3,1,1,bias=False),nn.BatchNorm2d(planes)]
    if down: m+=[nn.Conv2d(inp,planes,1,stride,bias=False),nn.BatchNorm2d(planes)]
    return m
def resnet(block, exp, layers, groups=1, wpg=64):
    mods=[nn.Conv2d(3,64,7,2,3,bias=False),nn.BatchNorm2d(64)]
    inp=64
    for i,(planes,n) in enumerate(zip([64,128,256,512],layers)):
        s = 1 if i==0 else 2
        for b in range(n):
            st = s if b==0 else 1
            down = b==0 and (st!=1 or inp!=planes*exp)
            mods+=block(inp,planes,st,groups,wpg,down); inp=planes*exp
    m=nn.ModuleList(mods)
    return sum(p.numel() for p in m.parameters()), len(list(m.parameters())), len(list(m.buffers()))
for name,args in [("resnet18",(basic,1,[2,2,2,2])),("resnet34",(basic,1,[3,4,6,3])),("resnet50",(bott,4,[3,4,6,3])),("resnet101",(bott,4,[3,4,23,3])),("resnet152",(bott,4,[3,8,36,3])),
  ("resnext50_32x4d",(bott,4,[3,4,6,3],32,4)),("resnext101_32x8d",(bott,4,[3,4,23,3],32,8)),("resnext101_64x4d",(bott,4,[3,4,23,3],64,4)),("wide_resnet50_2",(bott,4,[3,4,6,3],1,128)),("wide_resnet101_2",(bott,4,[3,4,23,3],1,128))]:
    print(name, resnet(*args))
