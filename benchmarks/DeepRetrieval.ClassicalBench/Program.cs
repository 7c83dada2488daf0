using System.CommandLine;
using DeepRetrieval.Bench;
using DeepRetrieval.ClassicalBench;

// Classical retrieval benchmark: SIFT against OpenCV 4.6 (agreement, repeatability, speed) and pair-matching retrieval
// with BoVW + spatial verification, VLAD, Fisher vectors and ASMK. Prepare the data first:
//   /usr/bin/python3 benchmarks/DeepRetrieval.ClassicalBench/opencv_peer.py prepare /tmp/classical-bench
// then: dotnet run -c Release --project benchmarks/DeepRetrieval.ClassicalBench -- <agreement|speed|retrieval|all> [data] [rounds]
var partArgument = new Argument<string>("part") { Description = "What to run: agreement, speed, retrieval or all", DefaultValueFactory = _ => "all" };
var dataArgument = new Argument<string>("data") { Description = "Folder written by opencv_peer.py prepare", DefaultValueFactory = _ => "/tmp/classical-bench" };
var roundsArgument = new Argument<int>("rounds") { Description = "Timed rounds of the speed part (after 3 warm-up rounds)", DefaultValueFactory = _ => 15 };
partArgument.AcceptOnlyFromAmong("agreement", "speed", "retrieval", "all");
roundsArgument.AtLeast(1);
var command = new RootCommand(
    "SIFT against OpenCV 4.6 (agreement, repeatability, speed) and pair-matching retrieval with BoVW + spatial verification, " +
    "VLAD, Fisher vectors and ASMK. Exit codes: 0 success, 1 run failure, 2 bad options.")
{
    partArgument, dataArgument, roundsArgument,
};
command.SetAction(parse =>
{
    string part = parse.GetRequiredValue(partArgument);
    int rounds = parse.GetValue(roundsArgument);
    BenchData data = BenchData.Load(parse.GetRequiredValue(dataArgument));
    if (part is "agreement" or "all") AgreementBench.Run(data);
    if (part is "speed" or "all")
    {
        if (part == "all") Console.WriteLine();
        SpeedBench.Run(data, rounds, warmup: 3);
    }
    if (part is "retrieval" or "all")
    {
        if (part == "all") Console.WriteLine();
        RetrievalBench.Run(data);
    }
    return 0;
});
return BenchCommandLine.Invoke(command, args);
