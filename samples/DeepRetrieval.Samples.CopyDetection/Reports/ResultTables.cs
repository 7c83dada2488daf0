using System.Globalization;
using System.Text;
using DeepRetrieval.Samples.CopyDetection.Evaluation;

namespace DeepRetrieval.Samples.CopyDetection.Reports;

/// <summary>The three tables of a run as Markdown: the summary per method, Recall@1 per edit and method, and each method's times.</summary>
internal static class ResultTables
{
    public static string Format(BenchmarkReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{report.Originals} originals × {report.Transforms.Count} edits = {report.Copies} copies; {report.Originals + report.Distractors} references ({report.Originals} originals + {report.Distractors} distractors); {report.ElapsedSeconds:F0} s in all.");
        text.AppendLine();
        text.AppendLine("| method | Recall@1 | mAP | μAP (ISC 2021) | recall at precision 0.9 | ms per image |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (MethodResult m in report.Methods)
        {
            string atP90 = m.RecallAtPrecision90 is double r ? r.ToString("F3", CultureInfo.InvariantCulture) : "—";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Method} | {m.RecallAt1:F3} | {m.MeanAveragePrecision:F3} | {m.MicroAveragePrecision:F3} | {atP90} | {m.MillisecondsPerImage:F1} |");
        }
        text.AppendLine();
        text.Append("| edit |");
        foreach (MethodResult m in report.Methods) text.Append(CultureInfo.InvariantCulture, $" {m.Method} |");
        text.AppendLine();
        text.Append("| --- |");
        foreach (MethodResult _ in report.Methods) text.Append(" ---: |");
        text.AppendLine();
        for (int t = 0; t < report.Transforms.Count; t++)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {report.Transforms[t]} |");
            foreach (MethodResult m in report.Methods) text.Append(CultureInfo.InvariantCulture, $" {m.RecallAt1ByTransform[t].Value:F2} |");
            text.AppendLine();
        }
        text.AppendLine();
        text.AppendLine("| method | training (s) | ms per reference (describe + index) | ms per copy (describe + search) |");
        text.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (MethodResult m in report.Methods)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {m.Method} | {m.TrainingSeconds:F1} | {m.MillisecondsPerReference:F1} | {m.MillisecondsPerQuery:F1} |");
        }
        return text.ToString();
    }
}
