using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaskInversion.Core.Metrics;

namespace MaskInversion.Core.Output;

/// <summary>The metrics of one method (MaskInversion, a baseline, an ablation) on one task.</summary>
/// <param name="MeanDiceLoss">Mean final Dice loss (1 − soft Dice, lower is better) of the method's inversions; null
/// for methods that do not invert.</param>
public sealed record MethodMetrics(string Method, RetrievalMetrics? Retrieval = null, ReferringMetrics? Referring = null, double? MeanDiceLoss = null)
{
    public string Task => Retrieval is not null ? MetricsJson.ClassificationTask
        : Referring is not null ? MetricsJson.ReferringTask
        : throw new InvalidOperationException($"Method {Method} has no metrics.");
}

/// <summary>
/// Writes results in CLIP_benchmark's JSON shape. A file holds several methods as a JSON ARRAY, one
/// self-contained CLIP_benchmark-style object per method (so tools that read one such object per result can
/// flatten the array without knowing the method set):
/// <code>
/// [{"dataset": "openimages_v7", "model": "ViT-B-16", "pretrained": "openai",
///   "task": "zeroshot_region_classification", "method": "maskinversion",
///   "metrics": {"acc1": …, "acc5": …, "acc10": …, "mean_per_class_recall": …, "per_class": {"Person": acc1, …}},
///   "counts": {"masks": …, "images": …, "per_class": {"Person": n, …}},
///   "created": "2025-…Z"}, …]
/// </code>
/// Referring entries have task "referring_expressions", metrics {acc1, acc5, acc10, miou, oiou} and counts
/// {expressions, images}. per_class is keyed by class name when names are given, else by class index. An inversion's
/// metrics add "mean_dice_loss" (1 − soft Dice, lower is better). With a <c>run</c> object (a job's: its state, its
/// error when it failed, the settings that produced the figures) every entry carries it as "run"; a run with no
/// method measured (a failed job) is written as one entry without "method" and "task", so the reason is never lost.
/// </summary>
public static class MetricsJson
{
    public const string ClassificationTask = "zeroshot_region_classification";
    public const string ReferringTask = "referring_expressions";

    /// <summary>Writes to a temporary file and renames it, so readers never see a half-written file.</summary>
    public static void Write(string path, string dataset, string model, string pretrained, IReadOnlyList<MethodMetrics> methods,
        IReadOnlyList<string>? classNames = null, DateTimeOffset? created = null, JsonObject? run = null)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        File.WriteAllText(tmp, Serialize(dataset, model, pretrained, methods, classNames, created, run));
        File.Move(tmp, full, overwrite: true);
    }

    public static string Serialize(string dataset, string model, string pretrained, IReadOnlyList<MethodMetrics> methods,
        IReadOnlyList<string>? classNames = null, DateTimeOffset? created = null, JsonObject? run = null)
    {
        var when = (created ?? DateTimeOffset.UtcNow).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var m in methods)
            {
                w.WriteStartObject();
                w.WriteString("dataset", dataset);
                w.WriteString("model", model);
                w.WriteString("pretrained", pretrained);
                w.WriteString("task", m.Task);
                w.WriteString("method", m.Method);
                if (m.Retrieval is { } r) WriteRetrieval(w, r, classNames, m.MeanDiceLoss);
                else if (m.Referring is { } f) WriteReferring(w, f, m.MeanDiceLoss);
                WriteRun(w, run);
                w.WriteString("created", when);
                w.WriteEndObject();
            }
            if (methods.Count == 0 && run is not null)
            {
                w.WriteStartObject();
                w.WriteString("dataset", dataset);
                w.WriteString("model", model);
                w.WriteString("pretrained", pretrained);
                WriteRun(w, run);
                w.WriteString("created", when);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    static void WriteRun(Utf8JsonWriter w, JsonObject? run)
    {
        if (run is null) return;
        w.WritePropertyName("run");
        run.WriteTo(w);
    }

    static void WriteDiceLoss(Utf8JsonWriter w, double? meanDiceLoss)
    {
        if (meanDiceLoss is { } d) w.WriteNumber("mean_dice_loss", d);
    }

    static void WriteRetrieval(Utf8JsonWriter w, RetrievalMetrics r, IReadOnlyList<string>? names, double? meanDiceLoss)
    {
        string Key(int c) => names is not null && c >= 0 && c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture);
        w.WriteStartObject("metrics");
        w.WriteNumber("acc1", r.Acc1);
        w.WriteNumber("acc5", r.Acc5);
        w.WriteNumber("acc10", r.Acc10);
        w.WriteNumber("mean_per_class_recall", r.MeanPerClassRecall);
        WriteDiceLoss(w, meanDiceLoss);
        w.WriteStartObject("per_class");
        foreach (var (c, v) in r.PerClass.OrderBy(kv => kv.Key)) w.WriteNumber(Key(c), v.Acc1);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("counts");
        w.WriteNumber("masks", r.Masks);
        w.WriteNumber("images", r.Images);
        w.WriteStartObject("per_class");
        foreach (var (c, v) in r.PerClass.OrderBy(kv => kv.Key)) w.WriteNumber(Key(c), v.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void WriteReferring(Utf8JsonWriter w, ReferringMetrics f, double? meanDiceLoss)
    {
        w.WriteStartObject("metrics");
        w.WriteNumber("acc1", f.Acc1);
        w.WriteNumber("acc5", f.Acc5);
        w.WriteNumber("acc10", f.Acc10);
        w.WriteNumber("miou", f.MIoU);
        w.WriteNumber("oiou", f.OIoU);
        WriteDiceLoss(w, meanDiceLoss);
        w.WriteEndObject();
        w.WriteStartObject("counts");
        w.WriteNumber("expressions", f.Expressions);
        w.WriteNumber("images", f.Images);
        w.WriteEndObject();
    }
}
