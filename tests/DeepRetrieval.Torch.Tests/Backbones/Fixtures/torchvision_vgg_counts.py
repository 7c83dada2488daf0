import torch.nn as nn
cfgs = {
    'vgg11': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg13': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg16': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'vgg19': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}
for name, cfg in cfgs.items():
    for bn in (False, True):
        layers=[]; c=3
        for v in cfg:
            if v=='M': layers.append(nn.MaxPool2d(2,2))
            else:
                layers.append(nn.Conv2d(c,v,3,padding=1))
                if bn: layers.append(nn.BatchNorm2d(v))
                layers.append(nn.ReLU(True)); c=v
        f=nn.Sequential(*layers)
        sd=f.state_dict()
        print(name+('_bn' if bn else ''), sum(p.numel() for p in f.parameters()), len(list(f.parameters())), len(list(f.buffers())), len(layers), list(sd)[:2], list(sd)[-1])
