using MaskInversion.Core.Datasets;
using MaskInversion.Core.Models;
using MaskInversion.Core.Text;
using MaskInversion.Core.Weights;

namespace MaskInversion.Core.Pipeline;

/// <summary>A job's engine or dataset settings that cannot work; <see cref="Exception.Message"/> lists every problem.</summary>
public sealed class InvalidJobSettingsException(IReadOnlyList<string> problems)
    : Exception("The job cannot run:\n  " + string.Join("\n  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Checks a job's settings up front, before any image is dispatched (#13: a wrong model name, a missing, pickle or junk
/// weights file, or a checkpoint of another architecture gave a job that "completed" with a table of zeros). Every
/// problem is collected, each naming the setting and the cause. Fast: checkpoints are judged from their header (shapes,
/// keys) without reading a tensor, and the dataset from its files' presence and class lists, without indexing it.
/// Files are confined by the given <see cref="PathPolicy"/> first, so a refusal never says whether a file outside exists.
/// </summary>
public static class EngineSettingsValidator
{
    /// <summary>Problems with the engine settings; empty when the engine can be built from them.</summary>
    /// <param name="classesFromDataset">A job's engine: its class names are the dataset's, read when the job runs
    /// (<see cref="ValidateDataset"/> judges them), or none at all in a referring job, which embeds its expressions
    /// instead. Either way text is embedded, so a tokenizer is required and <see cref="EngineSettings.ClassNames"/>
    /// is not judged.</param>
    public static IReadOnlyList<string> Validate(EngineSettings s, PathPolicy? paths = null, bool classesFromDataset = false)
    {
        paths ??= PathPolicy.Unrestricted;
        var problems = new List<string>();

        ClipConfig? config = null;
        if (s.Model is null && s.Weights is null)
            problems.Add("Model: give a model name or config (--model), weights (--weights), or both.");
        else if (s.Model is not null)
            config = Try(problems, "Model", () =>
            {
                // A bare name is a built-in config; anything path-like is a config file, confined like every file.
                if (!s.Model.Contains('/') && !s.Model.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return ClipConfig.Named(s.Model);
                var file = paths.Resolve(s.Model, what: "model config");
                return File.Exists(file) ? ClipConfig.FromFile(file) : throw new FileNotFoundException($"model config '{s.Model}' does not exist.");
            });

        if (s.Weights is not null)
        {
            var weights = Try(problems, "Weights", () => paths.Resolve(s.Weights, what: "weights file"));
            if (weights is not null && !File.Exists(weights)) problems.Add($"Weights: '{s.Weights}' does not exist.");
            else if (weights is not null)
            {
                config ??= s.Model is null ? Try(problems, "Weights", () => CheckpointLoader.InferConfig(weights)) : null;
                if (config is not null)
                {
                    var report = Try(problems, "Weights", () => CheckpointLoader.Inspect(config, weights));
                    if (report is { IsComplete: false }) problems.Add("Weights: " + report.Describe(maxPerCategory: 5));
                }
            }
        }

        if (config is not null && (s.ImageSize <= 0 || s.ImageSize % config.Vision.PatchSize != 0))
            problems.Add($"ImageSize: {s.ImageSize} must be a positive multiple of the model's patch size {config.Vision.PatchSize}.");

        if (!classesFromDataset)
        {
            if (s.ClassNames.Count == 0) problems.Add("Classes: the class list is empty; retrieval needs the dataset's classes.");
            else if (s.ClassNames.Any(string.IsNullOrWhiteSpace)) problems.Add("Classes: the class list holds an empty name.");
        }
        if (s.Tokenizer is null)
        {
            if (classesFromDataset) problems.Add("Tokenizer: the job embeds its class names or referring expressions as text; give a tokenizer (--tokenizer).");
            else if (s.ClassNames.Count > 0) problems.Add("Tokenizer: class names were given but no tokenizer (--tokenizer) to embed them.");
        }
        else
        {
            var tokenizer = Try(problems, "Tokenizer", () => paths.Resolve(s.Tokenizer, what: "tokenizer"));
            if (tokenizer is not null && !File.Exists(tokenizer) && !Directory.Exists(tokenizer)) problems.Add($"Tokenizer: '{s.Tokenizer}' does not exist.");
            else if (tokenizer is not null && Try(problems, "Tokenizer", () => ClipTokenizer.Load(tokenizer)) is { } loaded
                && config is not null && loaded.VocabSize > config.Text.VocabSize)
                problems.Add($"Tokenizer: its vocabulary ({loaded.VocabSize} tokens) is larger than the model's ({config.Text.VocabSize}).");
        }

        Try(problems, "Templates", () => PromptTemplates.Get(s.Templates));
        if (s.TopK < 1) problems.Add($"TopK: {s.TopK} must be at least 1.");
        if (s.ReturnedMapSize < 0) problems.Add($"ReturnedMapSize: {s.ReturnedMapSize} must not be negative.");
        Try(problems, "Inversion", () => { s.Inversion.Validate(); return true; });
        Try(problems, "Device", () => RegionEngine.ResolveDevice(s.Device));
        return problems;
    }

    /// <summary>Problems with the dataset: format known, files present and allowed, a class list that is not empty
    /// (COCO's categories are read when the file is indexed, so only its JSON's start is checked here).</summary>
    public static IReadOnlyList<string> ValidateDataset(string format, string root, string? split = null, string? classesFile = null,
        DatasetReaderOptions? readerOptions = null)
    {
        var problems = new List<string>();
        if (!DatasetReaders.Formats.Contains(format.ToLowerInvariant()))
        {
            problems.Add($"Dataset: unknown format '{format}'; expected one of {string.Join(", ", DatasetReaders.Formats)}.");
            return problems;
        }
        var reader = Try(problems, "Dataset", () => DatasetReaders.Open(format, root, split, classesFile, readerOptions: readerOptions));
        switch (reader)
        {
            case CocoReader coco:
                Try(problems, "Dataset", () => StartsAsJsonObject(coco.AnnotationsPath));
                break;
            // A referring dataset has no class list: its expressions are the queries.
            case not null when !DatasetReaders.IsReferring(format):
                var classes = Try(problems, "Dataset", () => reader.Classes);
                if (classes is { Count: 0 }) problems.Add($"Dataset: '{root}' defines no classes.");
                break;
        }
        return problems;
    }

    /// <summary>Throws <see cref="InvalidJobSettingsException"/> listing every problem, if there are any.</summary>
    public static void ThrowIfInvalid(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        if (list.Count > 0) throw new InvalidJobSettingsException(list);
    }

    static bool StartsAsJsonObject(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        Span<byte> head = stackalloc byte[64];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var text = head[..n];
        if (text.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];
        text = text.TrimStart(" \t\r\n"u8);
        if (text.IsEmpty || text[0] != (byte)'{') throw new InvalidDataException($"'{path}' is not a COCO annotation file: it does not start with a JSON object.");
        return true;
    }

    /// <summary>Runs a check; an exception becomes one problem "Setting: message".</summary>
    static T? Try<T>(List<string> problems, string setting, Func<T> check)
    {
        try { return check(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problems.Add($"{setting}: {e.Message}");
            return default;
        }
    }
}
