# Reference values for DistillationLossTests (run with python3 + torch 1.13; CI does not run this).
# rkd_d and rkd_a transcribe lenscloth/RKD metric/loss.py (RkdDistance, RKdAngle).
import torch, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
def pdist(e, squared=False, eps=1e-12):
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps)
    if not squared: res = res.sqrt()
    res = res.clone(); res[range(len(e)), range(len(e))] = 0
    return res
def rkd_d(s, t):
    t_d = pdist(t); t_d = t_d / t_d[t_d>0].mean()
    d = pdist(s); d = d / d[d>0].mean()
    return F.smooth_l1_loss(d, t_d)
def rkd_a(s, t):
    td = t.unsqueeze(0) - t.unsqueeze(1); n = F.normalize(td, p=2, dim=2); ta = torch.bmm(n, n.transpose(1,2)).view(-1)
    sd = s.unsqueeze(0) - s.unsqueeze(1); n = F.normalize(sd, p=2, dim=2); sa = torch.bmm(n, n.transpose(1,2)).view(-1)
    return F.smooth_l1_loss(sa, ta)
def simdist(s, t, T):
    def offdiag(x):
        sim = F.normalize(x, dim=1) @ F.normalize(x, dim=1).t() / T
        n = len(x); return sim[~torch.eye(n, dtype=torch.bool)].view(n, n-1)
    ps = F.log_softmax(offdiag(s), 1); pt = F.log_softmax(offdiag(t), 1)
    return T*T*(pt.exp()*(pt-ps)).sum(1).mean()
def sp(s, t):
    gs = F.normalize(s @ s.t(), dim=1); gt = F.normalize(t @ t.t(), dim=1)
    return ((gs-gt)**2).sum() / len(s)**2
s = torch.tensor([[0.,0],[1,0],[0,1]]); t = torch.tensor([[0.,0],[2,0],[0,1]])
print("rkd_d", repr(rkd_d(s,t).item()))
s2 = torch.tensor([[0.,0],[1,0],[0,1]]); t2 = torch.tensor([[0.,0],[1,0],[1,1]])
print("rkd_a", repr(rkd_a(s2,t2).item()))
s3 = torch.tensor([[1.,0],[0,1],[1,1]]); t3 = torch.tensor([[1.,0],[1,1],[0,1]])
print("simdist T=1", repr(simdist(s3,t3,1.0).item()), "T=0.5", repr(simdist(s3,t3,0.5).item()))
print("sp", repr(sp(s3,t3).item()))
# Output:
# rkd_d 0.018484453276125513
# rkd_a 0.03703703703703703
# simdist T=1 0.12003954271361365 T=0.5 0.10763214644756845
# sp 0.17065537609580503
