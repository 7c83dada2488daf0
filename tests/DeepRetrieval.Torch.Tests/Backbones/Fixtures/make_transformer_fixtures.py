# Makes TransformerFixtures.g.cs: tiny ViT and Swin configurations with random weights, inputs and the outputs of a
# plain-PyTorch re-implementation of timm's forward passes (timm/models/vision_transformer.py, swin_transformer.py,
# timm/layers/pos_embed.py: same state-dict names, same operations). Run: /usr/bin/python3 make_transformer_fixtures.py
import base64, math
import torch
import torch.nn.functional as F

torch.manual_seed(0)

def ln(x, sd, p, eps):
    return F.layer_norm(x, x.shape[-1:], sd[p + '.weight'], sd[p + '.bias'], eps)

def lin(x, sd, p):
    return F.linear(x, sd[p + '.weight'], sd.get(p + '.bias'))

def mlp(x, sd, p):
    return lin(F.gelu(lin(x, sd, p + '.fc1')), sd, p + '.fc2')

def attention(x, sd, p, heads, bias=None):
    B, N, C = x.shape
    qkv = lin(x, sd, p + '.qkv').reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    attn = (q * (C // heads) ** -0.5) @ k.transpose(-2, -1)
    if bias is not None:
        attn = attn + bias
    x = (attn.softmax(-1) @ v).transpose(1, 2).reshape(B, N, C)
    return lin(x, sd, p + '.proj')

# ---------------- ViT ----------------
def resample_abs_pos_embed(posemb, new_size, old_size, num_prefix_tokens=1):
    num_new_tokens = new_size[0] * new_size[1] + num_prefix_tokens
    if num_new_tokens == posemb.shape[1] and new_size[0] == new_size[1]:
        return posemb
    prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    D = posemb.shape[-1]
    posemb = posemb.reshape(1, old_size[0], old_size[1], -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode='bicubic', antialias=True)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, D)
    return torch.cat([prefix, posemb], dim=1)

def vit_forward(sd, x, dim, depth, heads, patch, grid):
    x = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=patch).permute(0, 2, 3, 1)
    B, H, W, C = x.shape
    pos = resample_abs_pos_embed(sd['pos_embed'], (H, W), (grid, grid))
    x = torch.cat([sd['cls_token'].expand(B, -1, -1), x.reshape(B, -1, C)], 1) + pos
    for i in range(depth):
        p = f'blocks.{i}'
        x = x + attention(ln(x, sd, p + '.norm1', 1e-6), sd, p + '.attn', heads)
        x = x + mlp(ln(x, sd, p + '.norm2', 1e-6), sd, p + '.mlp')
    return ln(x, sd, 'norm', 1e-6)

def vit_state(dim, depth, patch, grid, cin=3):
    sd = {'cls_token': torch.randn(1, 1, dim), 'pos_embed': torch.randn(1, grid * grid + 1, dim) * 0.5,
          'patch_embed.proj.weight': torch.randn(dim, cin, patch, patch) * 0.2, 'patch_embed.proj.bias': torch.randn(dim) * 0.1}
    for i in range(depth):
        p = f'blocks.{i}'
        for n in ('norm1', 'norm2'):
            sd[f'{p}.{n}.weight'] = 1 + 0.2 * torch.randn(dim)
            sd[f'{p}.{n}.bias'] = 0.1 * torch.randn(dim)
        for n, (o, k) in {'attn.qkv': (3 * dim, dim), 'attn.proj': (dim, dim), 'mlp.fc1': (4 * dim, dim), 'mlp.fc2': (dim, 4 * dim)}.items():
            sd[f'{p}.{n}.weight'] = torch.randn(o, k) / math.sqrt(k)
            sd[f'{p}.{n}.bias'] = 0.1 * torch.randn(o)
    sd['norm.weight'] = 1 + 0.2 * torch.randn(dim)
    sd['norm.bias'] = 0.1 * torch.randn(dim)
    return sd

# ---------------- Swin ----------------
def window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C)

def window_reverse(windows, ws, H, W):
    C = windows.shape[-1]
    x = windows.view(-1, H // ws, W // ws, ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, H, W, C)

def relative_position_index(ws):
    coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing='ij'))
    cf = torch.flatten(coords, 1)
    rel = (cf[:, :, None] - cf[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1)

def attn_mask(H, W, ws, shift):
    H = math.ceil(H / ws) * ws
    W = math.ceil(W / ws) * ws
    img_mask = torch.zeros((1, H, W, 1))
    cnt = 0
    for h in ((0, -ws), (-ws, -shift), (-shift, None)):
        for w in ((0, -ws), (-ws, -shift), (-shift, None)):
            img_mask[:, h[0]:h[1], w[0]:w[1], :] = cnt
            cnt += 1
    mw = window_partition(img_mask, ws).view(-1, ws * ws)
    m = mw.unsqueeze(1) - mw.unsqueeze(2)
    return m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0)

def swin_block(x, sd, p, heads, ws, shift):
    B, H, W, C = x.shape
    shortcut = x
    x = ln(x, sd, p + '.norm1', 1e-5)
    if shift:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
    pad_h = (ws - H % ws) % ws
    pad_w = (ws - W % ws) % ws
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    _, Hp, Wp, _ = x.shape
    xw = window_partition(x, ws).view(-1, ws * ws, C)
    N = ws * ws
    bias = sd[p + '.attn.relative_position_bias_table'][relative_position_index(ws).view(-1)].view(N, N, -1).permute(2, 0, 1).unsqueeze(0)
    if shift:
        mask = attn_mask(Hp, Wp, ws, shift)
        nw = mask.shape[0]
        bias = (bias.unsqueeze(1) + mask.unsqueeze(1).unsqueeze(0)).expand(B, nw, heads, N, N).reshape(-1, heads, N, N)
    a = attention(xw, sd, p + '.attn', heads, bias)
    x = window_reverse(a.view(-1, ws, ws, C), ws, Hp, Wp)[:, :H, :W, :]
    if shift:
        x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
    x = shortcut + x
    x = x.reshape(B, -1, C)
    x = x + mlp(ln(x, sd, p + '.norm2', 1e-5), sd, p + '.mlp')
    return x.reshape(B, H, W, C)

def swin_forward(sd, x, dim, depths, heads, ws, patch, grid):
    x = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=patch).permute(0, 2, 3, 1)
    x = ln(x, sd, 'patch_embed.norm', 1e-5)
    outs = []
    for i, d in enumerate(depths):
        if i > 0:
            B, H, W, C = x.shape
            x = x.reshape(B, H // 2, 2, W // 2, 2, C).permute(0, 1, 3, 4, 2, 5).flatten(3)
            x = lin(ln(x, sd, f'layers.{i}.downsample.norm', 1e-5), sd, f'layers.{i}.downsample.reduction')
        res = grid >> i
        w = min(res, ws)
        for j in range(d):
            shift = 0 if (j % 2 == 0 or res <= w) else w // 2
            x = swin_block(x, sd, f'layers.{i}.blocks.{j}', heads[i], w, shift)
        outs.append(x)
    outs[-1] = ln(outs[-1], sd, 'norm', 1e-5)
    return [o.permute(0, 3, 1, 2).contiguous() for o in outs]

def swin_state(dim, depths, heads, ws, patch, cin=3):
    sd = {'patch_embed.proj.weight': torch.randn(dim, cin, patch, patch) * 0.3, 'patch_embed.proj.bias': torch.randn(dim) * 0.1,
          'patch_embed.norm.weight': 1 + 0.2 * torch.randn(dim), 'patch_embed.norm.bias': 0.1 * torch.randn(dim)}
    grid = 16
    for i, d in enumerate(depths):
        c = dim << i
        if i > 0:
            sd[f'layers.{i}.downsample.norm.weight'] = 1 + 0.2 * torch.randn(2 * c)
            sd[f'layers.{i}.downsample.norm.bias'] = 0.1 * torch.randn(2 * c)
            sd[f'layers.{i}.downsample.reduction.weight'] = torch.randn(c, 2 * c) / math.sqrt(2 * c)
        w = min(grid >> i, ws)
        for j in range(d):
            p = f'layers.{i}.blocks.{j}'
            for n in ('norm1', 'norm2'):
                sd[f'{p}.{n}.weight'] = 1 + 0.2 * torch.randn(c)
                sd[f'{p}.{n}.bias'] = 0.1 * torch.randn(c)
            sd[f'{p}.attn.relative_position_bias_table'] = torch.randn((2 * w - 1) ** 2, heads[i])
            for n, (o, k) in {'attn.qkv': (3 * c, c), 'attn.proj': (c, c), 'mlp.fc1': (4 * c, c), 'mlp.fc2': (c, 4 * c)}.items():
                sd[f'{p}.{n}.weight'] = torch.randn(o, k) / math.sqrt(k)
                sd[f'{p}.{n}.bias'] = 0.1 * torch.randn(o)
    c = dim << (len(depths) - 1)
    sd['norm.weight'] = 1 + 0.2 * torch.randn(c)
    sd['norm.bias'] = 0.1 * torch.randn(c)
    return sd

def b64(t):
    return base64.b64encode(t.detach().contiguous().float().numpy().astype('<f4').tobytes()).decode()

def entries(prefix, tensors):
    lines = []
    for name, t in tensors.items():
        shape = ', '.join(str(s) for s in t.shape)
        lines.append(f'        ["{prefix}{name}"] = (new long[] {{ {shape} }}, "{b64(t)}"),')
    return lines

out = {}
# ViT: D 16, depth 2, 2 heads, patch 4, native 16 x 16 (4 x 4 grid).
vit = vit_state(16, 2, 4, 4)
vit_native = torch.randn(2, 3, 16, 16)
vit_wide = torch.randn(1, 3, 24, 20)   # 6 x 5 grid: bicubic upsampling of the position embedding
vit_small = torch.randn(1, 3, 8, 8)    # 2 x 2 grid: antialiased downsampling
for name, x in (('native', vit_native), ('wide', vit_wide), ('small', vit_small)):
    out[f'vit.input.{name}'] = x
    out[f'vit.tokens.{name}'] = vit_forward(vit, x, 16, 2, 2, 4, 4)
out['vit.pos_embed.6x5'] = resample_abs_pos_embed(vit['pos_embed'], (6, 5), (4, 4))
# Swin: D 8, depths 2, 2, 2, heads 1, 2, 2, window 4, patch 2, native 32 x 32 (maps 16, 8, 4: shifts 2, 2, none).
swin = swin_state(8, [2, 2, 2], [1, 2, 2], 4, 2)
swin_native = torch.randn(2, 3, 32, 32)
swin_other = torch.randn(1, 3, 48, 32)  # maps 24 x 16, 12 x 8, 6 x 4: the last padded to whole windows
for name, x in (('native', swin_native), ('other', swin_other)):
    out[f'swin.input.{name}'] = x
    for i, o in enumerate(swin_forward(swin, x, 8, [2, 2, 2], [1, 2, 2], 4, 2, 16)):
        out[f'swin.layers.{i}.{name}'] = o

lines = ['// <auto-generated> by make_transformer_fixtures.py (PyTorch 1.13, a plain re-implementation of timm\'s forward). </auto-generated>',
         'namespace DeepRetrieval.Torch.Tests.Backbones.Fixtures;', '',
         'internal static class TransformerFixtures', '{',
         '    // name -> (shape, little-endian float32 values in base64)',
         '    public static readonly Dictionary<string, (long[] Shape, string Data)> Tensors = new()', '    {']
lines += entries('vit.state.', vit) + entries('swin.state.', swin) + entries('', out)
lines += ['    };', '}', '']
open('TransformerFixtures.g.cs', 'w').write('\n'.join(lines))
print('ok', sum(t.numel() for t in list(vit.values()) + list(swin.values()) + list(out.values())))
