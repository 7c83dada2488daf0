using DeepRetrieval.Torch.Training;

namespace DeepRetrieval.Torch.Tests.Training;

// Expected sequences come from PyTorch 1.13 schedulers driving an SGD with two groups (base rates 0.1 and 1.0, i.e. ten
// times the first): see ScheduleReference.py next to this file. Entry i is the rate used by optimiser step i.
public sealed class ScheduleTests
{
    private static void ShouldMatch(LearningRateSchedule schedule, double baseRate, double[] expected, Action<int>? afterStep = null)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            schedule.LearningRate(baseRate, i).Should().BeApproximately(expected[i], 1e-9, $"step {i}");
            schedule.LearningRate(baseRate * 10, i).Should().BeApproximately(expected[i] * 10, 1e-9, $"second group, step {i}");
            afterStep?.Invoke(i);
        }
    }

    [Fact]
    public void OneCycle_MatchesPyTorchOneCycleLR()
    {
        // OneCycleLR(opt, max_lr=[0.1, 1.0], total_steps=20, cycle_momentum=False)
        ShouldMatch(new OneCycleSchedule(20), 0.1,
        [
            0.0040000000000000036, 0.013167184270002533, 0.037167184270002526, 0.06683281572999747, 0.09083281572999748, 0.1,
            0.09874640062350874, 0.09504846320134738, 0.089091617757105, 0.0811745653949763, 0.07169430017913009,
            0.06112620219362893, 0.0500002, 0.03887419780637107, 0.028306099820869922, 0.0188258346050237, 0.010908782242895003,
            0.004951936798652629, 0.0012539993764912555, 4e-07,
        ]);
    }

    [Fact]
    public void OneCycle_CyclesMomentumAsPyTorchOneCycleLR_AndNotWhenAskedNotTo()
    {
        // opt = Adam([p], lr=0.1); s = OneCycleLR(opt, max_lr=0.1, total_steps=20): opt.param_groups[0]['betas'][0] before each step
        double[] expected =
        [
            0.95, 0.9404508497187474, 0.9154508497187474, 0.8845491502812526, 0.8595491502812526, 0.85, 0.8512536043909088,
            0.854951556604879, 0.8609084258765984, 0.8688255099070633, 0.878305813044122, 0.8888739533021842, 0.8999999999999999,
            0.9111260466978157, 0.9216941869558779, 0.9311744900929366, 0.9390915741234015, 0.945048443395121, 0.9487463956090911, 0.95,
        ];
        var schedule = new OneCycleSchedule(20);
        for (int step = 0; step < expected.Length; step++)
            schedule.Momentum(step)!.Value.Should().BeApproximately(expected[step], 1e-12, $"step {step}");
        new OneCycleSchedule(20, cycleMomentum: false).Momentum(3).Should().BeNull();
        new StepSchedule(3).Momentum(3).Should().BeNull();
    }

    [Fact]
    public void OneCycle_KeepsTheFinalRate_AfterTheLastStep()
    {
        var schedule = new OneCycleSchedule(20);
        schedule.LearningRate(0.1, 25).Should().BeApproximately(4e-7, 1e-15);
    }

    [Fact]
    public void Step_MatchesPyTorchStepLR()
    {
        // StepLR(opt, step_size=3, gamma=0.5)
        ShouldMatch(new StepSchedule(3, 0.5), 0.1, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]);
    }

    [Fact]
    public void WarmupCosine_MatchesPyTorchLambdaLR()
    {
        // LambdaLR with s0 + (1 - s0) t / w during warm-up, then m + (1 - m)(1 + cos(pi min(1, (t - w) / (T - w)))) / 2; w=3, T=12, s0=0.1, m=0.05
        ShouldMatch(new WarmupCosineSchedule(3, 12, 0.1, 0.05), 0.1,
        [
            0.010000000000000002, 0.04000000000000001, 0.06999999999999999, 0.1, 0.09713539948733066, 0.08888711104815145, 0.07625,
            0.060748288439179204, 0.044251711560820806, 0.02875000000000001, 0.016112888951848547, 0.007864600512669356,
            0.005000000000000001, 0.005000000000000001,
        ]);
    }

    [Fact]
    public void ReduceOnPlateau_MatchesPyTorchReduceLROnPlateau_InMaxMode()
    {
        // ReduceLROnPlateau(opt, mode='max', factor=0.5, patience=2, cooldown=1, min_lr=0.004), stepped with these metrics
        double[] metrics = [0.1, 0.2, 0.2, 0.2, 0.2, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25];
        var schedule = new ReduceOnPlateauSchedule(0.5, patience: 2, cooldown: 1, minLearningRate: 0.004);
        ShouldMatch(schedule, 0.1, [0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025], i => schedule.ReportEpoch(metrics[i]));
    }

    [Fact]
    public void ReduceOnPlateau_NeverGoesBelowTheMinimum_AndRestoresItsState()
    {
        var schedule = new ReduceOnPlateauSchedule(0.1, patience: 0, minLearningRate: 0.004);
        for (int i = 0; i < 5; i++) schedule.ReportEpoch(0.5);
        schedule.LearningRate(0.1, 0).Should().Be(0.004);
        var copy = new ReduceOnPlateauSchedule(0.1, patience: 0, minLearningRate: 0.004);
        copy.LoadState(schedule.SaveState());
        copy.Scale.Should().Be(schedule.Scale);
        copy.ReportEpoch(0.5);
        schedule.ReportEpoch(0.5);
        copy.Scale.Should().Be(schedule.Scale);
    }

    [Fact]
    public void Schedules_RejectBadArguments()
    {
        FluentActions.Invoking(() => new WarmupCosineSchedule(10, 10)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new StepSchedule(0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new OneCycleSchedule(2)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ReduceOnPlateauSchedule(1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ConstantSchedule().LearningRate(0.1, -1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
