# Reference learning rates for ScheduleTests (PyTorch 1.13): python3 ScheduleReference.py
import torch, math
def run(make, steps, lr=0.1, metrics=None):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{'params':[p], 'lr':lr}, {'params':[torch.nn.Parameter(torch.zeros(1))], 'lr':lr*10}], lr=lr)
    s = make(opt); out=[]
    for i in range(steps):
        out.append([g['lr'] for g in opt.param_groups])
        opt.step()
        if metrics is None: s.step()
        else: s.step(metrics[i])
    return out
def fmt(o): return ", ".join(repr(x[0]) for x in o) + "\n  second group: " + ", ".join(repr(x[1]) for x in o)
print("onecycle", fmt(run(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=[0.1,1.0], total_steps=20, cycle_momentum=False), 20)))
print("step", fmt(run(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10)))
w,T,s0,m=3,12,0.1,0.05
lam=lambda t: s0+(1-s0)*t/w if t<w else m+(1-m)*0.5*(1+math.cos(math.pi*min(1.0,(t-w)/(T-w))))
print("warmcos", fmt(run(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lam), 14)))
metrics=[0.1,0.2,0.2,0.2,0.2,0.25,0.25,0.25,0.25,0.25,0.25,0.25]
print("plateau", fmt(run(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode='max', factor=0.5, patience=2, cooldown=1, min_lr=0.004), 12, metrics=metrics)))
