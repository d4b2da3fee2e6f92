using System.CommandLine;
using System.Globalization;
using MaskInversion.Core.Imaging;
using MaskInversion.Core.Inversion;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Text;
using MaskInversion.Core.Training;
using MaskInversion.Core.Weights;
using TorchSharp;

namespace MaskInversion.Client.Commands;

/// <summary>
/// <c>client invert</c> and <c>client legrad</c>: one photo, no manifest, no silo. <c>invert</c> learns a localized
/// token per mask and prints its best labels and the Dice of each step; <c>legrad</c> draws a prompt's LeGrad map.
/// Both run on the bundled MiniCLIP unless <c>--weights</c>/<c>--model</c> name another CLIP. Bad input (a missing file,
/// a mask of another picture, a tokenizer that does not fit) ends with one line on stderr and exit code 2.
/// </summary>
public static class ImageCommands
{
    public static IEnumerable<Command> Create() => [Invert(), Legrad()];

    /// <summary>Model and input options shared by both commands.</summary>
    sealed class ModelOptions
    {
        public Option<string?> Image { get; } = new("--image") { Description = "The photo (JPEG, PNG, WebP, BMP)." };
        public Option<string?> Weights { get; } = new("--weights") { Description = "Safetensors CLIP checkpoint (default: the bundled MiniCLIP)." };
        public Option<string?> Model { get; } = new("--model") { Description = "Model name (ViT-B-16, …) or OpenCLIP config JSON; inferred from --weights when absent." };
        public Option<string?> Pretrained { get; } = new("--pretrained") { Description = "Pretrained tag (openai selects QuickGELU)." };
        public Option<string?> Tokenizer { get; } = new("--tokenizer") { Description = "bpe_simple_vocab_16e6.txt.gz, vocab.json, or a folder with vocab.json + merges.txt (needed with --weights/--model)." };
        public Option<int> ImageSize { get; } = new("--image-size") { Description = "Input side in pixels (0 = 448 for a CLIP checkpoint, the training size for MiniCLIP).", DefaultValueFactory = _ => 0 };
        public Option<string> Resize { get; } = new("--resize") { Description = "pil (the reference's 8-bit bicubic, default) or float.", DefaultValueFactory = _ => "pil" };
        public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        public Option<string?> Output { get; } = new("--out") { Description = "Output folder (default: ./out/<command>/<image name>)." };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Image, Weights, Model, Pretrained, Tokenizer, ImageSize, Resize, Device, Output }) c.Options.Add(o);
        }

        public bool Bundled(ParseResult r) => r.GetValue(Weights) is null && r.GetValue(Model) is null;

        public RgbImage LoadImage(ParseResult r)
        {
            var path = r.GetValue(Image) ?? throw new ArgumentException("Give the photo with --image <file>.");
            return ImageLoader.Load(path);
        }

        public string OutputFolder(ParseResult r, string command)
        {
            var folder = r.GetValue(Output) ?? Path.Combine("out", command, Path.GetFileNameWithoutExtension(r.GetValue(Image)!));
            Directory.CreateDirectory(folder);
            return Path.GetFullPath(folder);
        }

        /// <summary>The bundled MiniCLIP, or the named checkpoint with its tokenizer.</summary>
        public ImageInversion Load(ParseResult r)
        {
            var resize = r.GetValue(Resize)!.ToLowerInvariant() switch
            {
                "pil" => ResizeMode.Pil,
                "float" => ResizeMode.Float,
                var other => throw new ArgumentException($"--resize must be pil or float, not '{other}'."),
            };
            var device = RegionEngine.ResolveDevice(r.GetValue(Device)!);
            int size = r.GetValue(ImageSize);
            if (size < 0) throw new ArgumentException($"--image-size must be positive (or 0 for the default), not {size}.");
            if (Bundled(r))
            {
                var bundle = MiniClip.LoadBundled();
                return new ImageInversion(bundle.Model, bundle.Tokenizer, new Preprocessor(size > 0 ? size : bundle.ImageSize, resize: resize), device);
            }
            var tokenizerPath = r.GetValue(Tokenizer) ?? throw new ArgumentException("--weights/--model need --tokenizer (e.g. bpe_simple_vocab_16e6.txt.gz).");
            var tokenizer = ClipTokenizer.Load(tokenizerPath);
            var settings = new EngineSettings { Model = r.GetValue(Model), Weights = r.GetValue(Weights), PretrainedTag = r.GetValue(Pretrained) };
            if (settings.Weights is null) Console.Error.WriteLine($"note: no --weights: {settings.Model} runs with seeded random weights.");
            var model = OpenClipFamily.LoadModel(settings);
            try { return new ImageInversion(model, tokenizer, new Preprocessor(size > 0 ? size : Preprocessor.DefaultImageSize, resize: resize), device); }
            catch { model.Dispose(); throw; }
        }
    }

    static Command Invert()
    {
        var io = new ModelOptions();
        var masks = new Option<string[]>("--mask") { Description = "A mask image of the photo (repeat for more; any resolution of the photo's aspect ratio)." };
        var classes = new Option<string?>("--classes") { Description = "Comma-separated class names to label each region with (filled into --templates)." };
        var texts = new Option<string[]>("--text") { Description = "A text to score each region against, verbatim (repeat for more)." };
        var templates = new Option<string?>("--templates") { Description = "imagenet80 or single, for --classes (default: single for MiniCLIP, imagenet80 otherwise)." };
        var topK = new Option<int>("--top-k") { Description = "Labels printed per mask.", DefaultValueFactory = _ => 5 };
        var iterations = new Option<int>("--iterations") { Description = "MaskInversion steps K.", DefaultValueFactory = _ => 10 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate (reference default 0.1; its README example 0.5).", DefaultValueFactory = _ => 0.1 };
        var alpha = new Option<double>("--alpha") { Description = "Weight of α·(1 − cos(LET, LET₀)) (5 for referring expressions).", DefaultValueFactory = _ => 0.0 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.0 };
        var path = new Option<string>("--path") { Description = "auto, vanilla, explicit or implicit.", DefaultValueFactory = _ => "auto" };
        var cmd = new Command("invert", "Learn a localized embedding per mask of one photo; print its best labels and per-step Dice, write the map overlay and the token.");
        io.AddTo(cmd);
        foreach (var o in new Option[] { masks, classes, texts, templates, topK, iterations, lr, alpha, weightDecay, path }) cmd.Options.Add(o);
        cmd.SetAction(r => Run(() =>
        {
            var maskPaths = r.GetValue(masks) ?? [];
            if (maskPaths.Length == 0) throw new ArgumentException("Give at least one --mask <file>.");
            var classList = r.GetValue(classes)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            var textList = r.GetValue(texts) ?? [];
            if (classList.Length > 0 == textList.Length > 0) throw new ArgumentException("Give either --classes \"a,b,c\" or --text \"…\" (one or more), not both or neither.");
            var options = new InversionOptions
            {
                Iterations = r.GetValue(iterations), LearningRate = r.GetValue(lr), Alpha = r.GetValue(alpha),
                WeightDecay = r.GetValue(weightDecay), Path = ParsePath(r.GetValue(path)!),
            };
            options.Validate();

            var image = io.LoadImage(r);
            var maskImages = maskPaths.Select(p => MaskLoader.Load(p)).ToList();
            for (int i = 0; i < maskImages.Count; i++) ImageInversion.CheckMaskFits(image, maskImages[i], maskPaths[i]);
            using var engine = io.Load(r);
            var labels = classList.Length > 0 ? classList : textList;
            var templateList = textList.Length > 0 ? [PromptTemplates.Placeholder]
                : PromptTemplates.Get(r.GetValue(templates) ?? (io.Bundled(r) ? "single" : "imagenet80"));
            var regions = engine.Invert(image, maskImages, labels, templateList, options, Math.Min(r.GetValue(topK), labels.Length));

            var outDir = io.OutputFolder(r, "invert");
            foreach (var region in regions)
            {
                var name = $"mask{region.MaskIndex}-{Path.GetFileNameWithoutExtension(maskPaths[region.MaskIndex])}";
                Console.WriteLine($"{maskPaths[region.MaskIndex]}:");
                foreach (var l in region.Labels) Console.WriteLine(Invariant($"  {l.Score,8:F4}  {l.Label}"));
                Console.WriteLine("  soft Dice per step: " + string.Join(" ", region.DiceLossPerStep.Select(d => Invariant($"{1 - d:F3}")))
                    + Invariant($" → final {1 - region.FinalDiceLoss:F3}"));
                var overlay = Path.Combine(outDir, name + "-map.png");
                PngWriter.SaveHeatMap(region.Map, region.MapSize, region.MapSize, overlay, image, 0.5f);
                var tokenPath = Path.Combine(outDir, name + "-token.safetensors");
                SaveToken(tokenPath, region, r.GetValue(io.Image)!, maskPaths[region.MaskIndex], options);
                Console.WriteLine($"  map overlay {overlay}");
                Console.WriteLine($"  token       {tokenPath}");
            }
            return 0;
        }));
        return cmd;
    }

    static Command Legrad()
    {
        var io = new ModelOptions();
        var texts = new Option<string[]>("--text") { Description = "A prompt, verbatim (repeat for more)." };
        var cmd = new Command("legrad", "Draw the LeGrad explainability map of one or more prompts on a photo.");
        io.AddTo(cmd);
        cmd.Options.Add(texts);
        cmd.SetAction(r => Run(() =>
        {
            var textList = r.GetValue(texts) ?? [];
            if (textList.Length == 0) throw new ArgumentException("Give at least one --text \"…\".");
            var image = io.LoadImage(r);
            using var engine = io.Load(r);
            var maps = engine.TextMaps(image, textList);
            var outDir = io.OutputFolder(r, "legrad");
            for (int i = 0; i < maps.Count; i++)
            {
                var overlay = Path.Combine(outDir, $"text{i}-map.png");
                PngWriter.SaveHeatMap(maps[i].Map, maps[i].MapSize, maps[i].MapSize, overlay, image, 0.5f);
                Console.WriteLine(Invariant($"\"{maps[i].Text}\": cosine with the image {maps[i].ImageSimilarity:F4}; map overlay {overlay}"));
            }
            return 0;
        }));
        return cmd;
    }

    static InversionPath ParsePath(string name) => Enum.TryParse<InversionPath>(name, ignoreCase: true, out var p)
        ? p : throw new ArgumentException($"--path must be auto, vanilla, explicit or implicit, not '{name}'.");

    /// <summary>The token as a safetensors file: tensor "embedding" (d, F32), with what produced it in the metadata.</summary>
    static void SaveToken(string path, InvertedRegion region, string image, string mask, InversionOptions o)
    {
        using var token = torch.tensor(region.Embedding);
        SafeTensorsWriter.Save(path, [("embedding", token)], metadata: new Dictionary<string, string>
        {
            ["image"] = Path.GetFullPath(image), ["mask"] = Path.GetFullPath(mask),
            ["iterations"] = Invariant($"{o.Iterations}"), ["lr"] = Invariant($"{o.LearningRate}"), ["alpha"] = Invariant($"{o.Alpha}"),
            ["weight_decay"] = Invariant($"{o.WeightDecay}"), ["final_dice_loss"] = Invariant($"{region.FinalDiceLoss}"),
        });
    }

    /// <summary>Runs a command body; input errors become one stderr line and exit code 2 (no stack trace).</summary>
    static int Run(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (InputErrors.Is(e))
        {
            Console.Error.WriteLine($"error: {InputErrors.Message(e)}");
            return 2;
        }
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
