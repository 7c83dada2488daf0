using DeepRetrieval.Imaging.Visualization;

namespace DeepRetrieval.AnnBench;

/// <summary>
/// The run's rows as the library's recall/QPS plot: one colour per index description, solid for one query at a time,
/// dashed for batched QPS; other libraries' curves (<see cref="PeerCurve"/>) dotted, with triangles.
/// </summary>
internal static class RecallPlot
{
    public static void Save(string path, IReadOnlyList<ResultRow> rows, IReadOnlyList<PeerCurve> peers, string title, int k)
    {
        var curves = new List<PlotCurve>();
        int colour = 0;
        foreach (IGrouping<string, ResultRow> group in rows.GroupBy(r => r.Index))
        {
            ResultRow[] points = [.. group.OrderBy(r => r.Recall)];
            RecallQpsPoint[] single = [.. points.Where(p => p.Qps is not null).Select(p => new RecallQpsPoint(p.Recall, p.Qps!.Value))];
            if (single.Length > 0) curves.Add(new PlotCurve(group.Key, single) { ColorIndex = colour });
            curves.Add(new PlotCurve($"{group.Key} (batch)", [.. points.Select(p => new RecallQpsPoint(p.Recall, p.BatchQps))])
            {
                ColorIndex = colour,
                Style = CurveStyle.Dashed,
                Marker = CurveMarker.Square,
            });
            colour++;
        }
        foreach (PeerCurve peer in peers)
            curves.Add(PlotCurve.Peer(peer.Name, [.. peer.Points.Select(p => new RecallQpsPoint(p.Recall, p.Qps))]) with { ColorIndex = colour++ });
        RecallQpsPlot.Save(path, curves, new RecallQpsPlotOptions { Title = title, XLabel = $"Recall@{k}" });
    }
}
