using System.CommandLine;
using MaskInversion.Grains;

namespace MaskInversion.Client.Jobs;

/// <summary>
/// The CLI's job options, bound to the one settings record in one place: every option's default is the value of a
/// defaults <see cref="JobSettings"/> (the record's own unless a command gives others), and <see cref="Bind"/>
/// returns a JobSettings. A command takes the groups it needs (demo: the methods group; submit: all).
/// Method names are passed as given: the coordinator expands groups and refuses unknown names.
/// </summary>
public sealed class JobSettingsOptions
{
    [Flags]
    public enum Groups { Dataset = 1, Model = 2, Methods = 4, Outputs = 8, Dispatch = 16, All = Dataset | Model | Methods | Outputs | Dispatch }

    readonly JobSettings d;
    readonly Groups groups;

    /// <param name="defaults">Option defaults (and the values of groups not taken); the record's own when null.</param>
    /// <param name="outputRoot">Default of --output, the folder under which each job gets its own.</param>
    public JobSettingsOptions(Groups groups = Groups.All, JobSettings? defaults = null, string outputRoot = "./out/jobs")
    {
        this.groups = groups;
        d = defaults ?? new JobSettings();
        Output = new("--output") { Description = "Jobs folder: each job writes metrics.json, masks/, embeddings/, overlays/ into <output>/<job id>.", DefaultValueFactory = _ => outputRoot };
    }

    public Option<string?> Dataset { get; } = new("--dataset") { Description = "Dataset root (openimages, coco, voc, pascal-context, refcoco*, phrasecut) or manifest (jsonl); must be readable by every silo." };
    public Option<string> Format => field ??= new("--format")
    {
        Description = "Class retrieval: openimages, coco, jsonl, voc, pascal-context. Referring expressions (Acc@1/5/10, mIoU, oIoU): refcoco, refcoco+, refcocog, phrasecut.",
        DefaultValueFactory = _ => d.Format,
    };
    public Option<string?> Split => field ??= new("--split") { Description = "Split (openimages: validation, coco: val2017; voc, pascal-context, refcoco*, phrasecut: val; refcoco/+: also testA, testB; refcocog: test).", DefaultValueFactory = _ => d.Split };
    public Option<string?> Classes => field ??= new("--classes") { Description = "Class list (jsonl; voc/pascal-context: names in label order), or a classes-segmentation.txt override (openimages).", DefaultValueFactory = _ => d.ClassesFile };
    public Option<bool> IncludeCrowd => field ??= new("--include-crowd") { Description = "coco: also use crowd annotations as query masks.", DefaultValueFactory = _ => d.IncludeCrowd };
    public Option<int> MaxImages => field ??= new("--max-images") { Description = "Stop after this many images (0 = all).", DefaultValueFactory = _ => d.MaxImages };

    public Option<string?> ModelFamily => field ??= new("--model-family") { Description = "Model family (openclip); default: the one that recognises --model/--weights.", DefaultValueFactory = _ => d.ModelFamily };
    public Option<string?> Model => field ??= new("--model") { Description = "Model name (ViT-B-16, …) or OpenCLIP config JSON.", DefaultValueFactory = _ => d.Model };
    public Option<string?> Weights => field ??= new("--weights") { Description = "Safetensors checkpoint; none = seeded random weights.", DefaultValueFactory = _ => d.Weights };
    public Option<string?> Pretrained => field ??= new("--pretrained") { Description = "Pretrained tag (openai selects QuickGELU).", DefaultValueFactory = _ => d.PretrainedTag };
    public Option<string?> Tokenizer => field ??= new("--tokenizer") { Description = "bpe_simple_vocab_16e6.txt.gz, vocab.json, or a folder with vocab.json + merges.txt.", DefaultValueFactory = _ => d.Tokenizer };
    public Option<int> ImageSize => field ??= new("--image-size") { Description = "Input side in pixels.", DefaultValueFactory = _ => d.ImageSize };
    public Option<string> Resize => field ??= new("--resize") { Description = "pil (the reference's 8-bit bicubic, bit-exact with its preprocessing) or float (libtorch's bicubic on floats).", DefaultValueFactory = _ => d.Resize };
    public Option<string> Templates => field ??= new("--templates") { Description = "imagenet80 or single.", DefaultValueFactory = _ => d.Templates };
    public Option<long> Seed => field ??= new("--seed") { Description = "Seed of random weights (without --weights).", DefaultValueFactory = _ => d.Seed };

    public Option<string> Methods => field ??= new("--methods")
    {
        Description = "Comma-separated: maskinversion, clip, crop, masked_crop, red_circle, blur, maskinversion_box|erode|dilate, or baselines/ablations/all.",
        DefaultValueFactory = _ => string.Join(',', d.Methods),
    };
    public Option<string> InversionPath => field ??= new("--inversion-path") { Description = "How ∂s/∂A is computed: auto, vanilla, explicit or implicit.", DefaultValueFactory = _ => d.InversionPath };
    public Option<int> Iterations => field ??= new("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => d.Iterations };
    public Option<double> LearningRate => field ??= new("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => d.LearningRate };
    public Option<double> Alpha => field ??= new("--alpha")
    {
        Description = $"Weight of the regulariser toward the image embedding. Default {d.Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}; " +
            $"for referring formats ({string.Join(", ", DatasetFormats.Referring)}) the paper's {DatasetFormats.ReferringAlpha.ToString(System.Globalization.CultureInfo.InvariantCulture)} unless given.",
        DefaultValueFactory = _ => d.Alpha,
    };
    public Option<double> WeightDecay => field ??= new("--weight-decay") { Description = "AdamW weight decay (the paper: 0).", DefaultValueFactory = _ => d.WeightDecay };

    public Option<string> Output { get; }
    public Option<bool> Embeddings => field ??= new("--embeddings") { Description = "Also write the embeddings (Parquet).", DefaultValueFactory = _ => d.SaveEmbeddings };
    public Option<int> Overlays => field ??= new("--overlays") { Description = "Masks that get PNG overlays.", DefaultValueFactory = _ => d.OverlaySamples };

    public Option<int> InFlight => field ??= new("--in-flight") { Description = "Images in flight cluster-wide.", DefaultValueFactory = _ => d.MaxInFlight };
    public Option<int> MaxAttempts => field ??= new("--max-attempts") { Description = "Attempts per image on transient failures (silo loss, timeouts).", DefaultValueFactory = _ => d.MaxAttempts };

    public Option<int> Shards => field ??= new("--shards")
    {
        Description = "Coordinator shards: each works every Nth dataset record on some coordinator silo and the job adds up their figures " +
            "(one coordinator keeps up with ≈ 25,000 images/s; more spread a huge job's bookkeeping over silos).",
        DefaultValueFactory = _ => d.Shards,
    };

    IEnumerable<Option> Of(Groups g) => g switch
    {
        Groups.Dataset => [Dataset, Format, Split, Classes, IncludeCrowd, MaxImages],
        Groups.Model => [ModelFamily, Model, Weights, Pretrained, Tokenizer, ImageSize, Resize, Templates, Seed],
        Groups.Methods => [Methods, InversionPath, Iterations, LearningRate, Alpha, WeightDecay],
        Groups.Outputs => [Output, Embeddings, Overlays],
        Groups.Dispatch => [InFlight, MaxAttempts, Shards],
        _ => [],
    };

    public void AddTo(Command command)
    {
        foreach (var g in Enum.GetValues<Groups>().Where(g => g != Groups.All && groups.HasFlag(g)))
            foreach (var o in Of(g)) command.Options.Add(o);
    }

    /// <summary>The settings the command line gives: the taken groups from the options, the rest from
    /// <paramref name="start"/> (the defaults when null). Paths become absolute here: the silos resolve them, not
    /// this shell.</summary>
    public JobSettings Bind(ParseResult r, string jobId, JobSettings? start = null)
    {
        var s = start ?? d;
        if (groups.HasFlag(Groups.Dataset))
        {
            var dataset = r.GetValue(Dataset) ?? throw new ArgumentException("--dataset is required.");
            s = s with
            {
                Format = r.GetValue(Format)!, DatasetRoot = Path.GetFullPath(dataset), Split = r.GetValue(Split), ClassesFile = Full(r.GetValue(Classes)),
                IncludeCrowd = r.GetValue(IncludeCrowd), MaxImages = r.GetValue(MaxImages),
                DatasetName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataset))),
            };
        }
        if (groups.HasFlag(Groups.Model))
            s = s with
            {
                ModelFamily = r.GetValue(ModelFamily), Model = Full(r.GetValue(Model)), Weights = Full(r.GetValue(Weights)), PretrainedTag = r.GetValue(Pretrained),
                Tokenizer = Full(r.GetValue(Tokenizer)), ImageSize = r.GetValue(ImageSize), Resize = r.GetValue(Resize)!, Templates = r.GetValue(Templates)!,
                Seed = r.GetValue(Seed),
            };
        if (groups.HasFlag(Groups.Methods))
            s = s with
            {
                Methods = r.GetValue(Methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                InversionPath = r.GetValue(InversionPath)!, Iterations = r.GetValue(Iterations), LearningRate = r.GetValue(LearningRate),
                // Referring expressions: the paper's α unless the command line gives one (the format is known by now).
                Alpha = r.GetResult(Alpha) is { Implicit: false } || !DatasetFormats.IsReferring(s.Format) ? r.GetValue(Alpha) : DatasetFormats.ReferringAlpha,
                WeightDecay = r.GetValue(WeightDecay),
            };
        if (groups.HasFlag(Groups.Outputs))
            s = s with
            {
                OutputFolder = Path.GetFullPath(Path.Combine(r.GetValue(Output)!, jobId)), SaveEmbeddings = r.GetValue(Embeddings), OverlaySamples = r.GetValue(Overlays),
            };
        if (groups.HasFlag(Groups.Dispatch))
            s = s with { MaxInFlight = r.GetValue(InFlight), MaxAttempts = r.GetValue(MaxAttempts), Shards = r.GetValue(Shards) };
        return s;
    }

    /// <summary>A path that exists becomes absolute; anything else (a model name) stays as given.</summary>
    static string? Full(string? p) => p is null ? null : File.Exists(p) || Directory.Exists(p) ? Path.GetFullPath(p) : p;
}
