using System.CommandLine;
using MaskInversion.Core.Pipeline;
using MaskInversion.Grains;
using Spectre.Console;

namespace MaskInversion.Client.Commands;

/// <summary><c>client submit | status | watch | results | cancel</c> against a running cluster.</summary>
public static class JobCommands
{
    static readonly Option<string> JobOption = new("--job") { Description = "Job id.", Required = true };

    public static IEnumerable<Command> Create() => [Submit(), Status(), Watch(), Results(), Cancel()];

    /// <summary>The job spec options, shared with the demo and the cluster benchmark.</summary>
    public sealed class SpecOptions
    {
        public Option<string> Dataset { get; } = new("--dataset") { Description = "Dataset root (openimages, coco) or manifest (jsonl); must be readable by every silo." };
        public Option<string> Format { get; } = new("--format") { Description = "openimages, coco or jsonl.", DefaultValueFactory = _ => "openimages" };
        public Option<string?> Split { get; } = new("--split") { Description = "Split (openimages: validation, coco: val2017)." };
        public Option<string?> Model { get; } = new("--model") { Description = "Model name (ViT-B-16, …) or OpenCLIP config JSON." };
        public Option<string?> Weights { get; } = new("--weights") { Description = "Safetensors checkpoint; none = seeded random weights." };
        public Option<string?> Pretrained { get; } = new("--pretrained") { Description = "Pretrained tag (openai selects QuickGELU)." };
        public Option<string?> Tokenizer { get; } = new("--tokenizer") { Description = "bpe_simple_vocab_16e6.txt.gz, vocab.json, or a folder with vocab.json + merges.txt." };
        public Option<string> Methods { get; } = new("--methods") { Description = "Comma-separated: maskinversion, clip, crop, masked_crop, red_circle, blur, maskinversion_box|erode|dilate, or baselines/ablations/all.", DefaultValueFactory = _ => "maskinversion,baselines" };
        public Option<int> Iterations { get; } = new("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => 10 };
        public Option<double> LearningRate { get; } = new("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => 0.1 };
        public Option<double> Alpha { get; } = new("--alpha") { Description = "Weight of the regulariser toward the image embedding.", DefaultValueFactory = _ => 0.0 };
        public Option<int> ImageSize { get; } = new("--image-size") { Description = "Input side in pixels.", DefaultValueFactory = _ => 448 };
        public Option<string> Templates { get; } = new("--templates") { Description = "imagenet80 or single.", DefaultValueFactory = _ => "imagenet80" };
        public Option<string> Output { get; } = new("--output") { Description = "Job folder (metrics.json, masks/, embeddings/, overlays/).", DefaultValueFactory = _ => "./out/jobs" };
        public Option<bool> Embeddings { get; } = new("--embeddings") { Description = "Also write the embeddings (Parquet)." };
        public Option<int> Overlays { get; } = new("--overlays") { Description = "Masks that get PNG overlays.", DefaultValueFactory = _ => 8 };
        public Option<int> MaxImages { get; } = new("--max-images") { Description = "Stop after this many images (0 = all).", DefaultValueFactory = _ => 0 };
        public Option<int> InFlight { get; } = new("--in-flight") { Description = "Images in flight cluster-wide.", DefaultValueFactory = _ => 16 };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Dataset, Format, Split, Model, Weights, Pretrained, Tokenizer, Methods, Iterations, LearningRate, Alpha, ImageSize, Templates, Output, Embeddings, Overlays, MaxImages, InFlight })
                c.Options.Add(o);
        }

        /// <summary>Paths become absolute here: the silos resolve them, not this shell.</summary>
        public JobSpec Build(ParseResult r, string jobId)
        {
            static string? Full(string? p) => p is null ? null : File.Exists(p) || Directory.Exists(p) ? Path.GetFullPath(p) : p;
            var dataset = r.GetValue(Dataset) ?? throw new ArgumentException("--dataset is required.");
            return new JobSpec
            {
                Format = r.GetValue(Format)!, DatasetRoot = Path.GetFullPath(dataset), Split = r.GetValue(Split),
                Model = Full(r.GetValue(Model)), Weights = Full(r.GetValue(Weights)), PretrainedTag = r.GetValue(Pretrained), Tokenizer = Full(r.GetValue(Tokenizer)),
                Methods = RegionMethods.ParseList(r.GetValue(Methods)!).Select(m => m.Name()).ToArray(),
                Iterations = r.GetValue(Iterations), LearningRate = r.GetValue(LearningRate), Alpha = r.GetValue(Alpha),
                ImageSize = r.GetValue(ImageSize), Templates = r.GetValue(Templates)!,
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(Output)!, jobId)), SaveEmbeddings = r.GetValue(Embeddings),
                OverlaySamples = r.GetValue(Overlays), MaxImages = r.GetValue(MaxImages), MaxInFlight = r.GetValue(InFlight),
                DatasetName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataset))),
            };
        }
    }

    static Command Submit()
    {
        var spec = new SpecOptions();
        var job = new Option<string?>("--job") { Description = "Job id (default: a new one)." };
        var watch = new Option<bool>("--watch") { Description = "Watch until the job ends, then print its metrics." };
        var cmd = new Command("submit", "Submit a job to the cluster.");
        spec.AddTo(cmd);
        cmd.Options.Add(job);
        cmd.Options.Add(watch);
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            var id = r.GetValue(job) ?? $"job-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var jobSpec = spec.Build(r, id);
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            var grain = connection.Grains.GetGrain<IJobCoordinatorGrain>(id);
            AnsiConsole.WriteLine(JobView.Line(await grain.SubmitAsync(jobSpec)));
            AnsiConsole.WriteLine($"Outputs: {jobSpec.OutputFolder}");
            if (r.GetValue(watch))
            {
                await JobView.WatchAsync(grain, ct);
                JobView.Results(await grain.GetResultsAsync());
            }
            return 0;
        });
        return cmd;
    }

    static Command WithJob(string name, string description, Func<IJobCoordinatorGrain, CancellationToken, Task> action)
    {
        var cmd = new Command(name, description) { JobOption };
        ClusterConnection.AddOptions(cmd);
        cmd.SetAction(async (r, ct) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(r, ct);
            await action(connection.Grains.GetGrain<IJobCoordinatorGrain>(r.GetValue(JobOption)!), ct);
            return 0;
        });
        return cmd;
    }

    static Command Status() => WithJob("status", "Print a job's progress once.",
        async (job, _) => AnsiConsole.WriteLine(JobView.Line(await job.GetProgressAsync())));

    static Command Watch() => WithJob("watch", "Live progress (masks/s, ETA) until the job ends, then its metrics.", async (job, ct) =>
    {
        await JobView.WatchAsync(job, ct);
        JobView.Results(await job.GetResultsAsync());
    });

    static Command Results() => WithJob("results", "Print a job's metrics table (partial while it runs).",
        async (job, _) => JobView.Results(await job.GetResultsAsync()));

    static Command Cancel() => WithJob("cancel", "Stop dispatching a job; images in flight finish.",
        async (job, _) => AnsiConsole.WriteLine(JobView.Line(await job.CancelAsync())));
}
