using System.Buffers.Binary;
using System.Text;
using MaskInversion.Core.Imaging;
using MaskInversion.Grains;

namespace MaskInversion.Cluster.Tests;

/// <summary>
/// #9's bad-input catalogue through the cluster: one dataset with one bad item of each kind among good ones. Each bad
/// item gets its own error naming the item and the cause, the good items' results equal a run on the good items alone,
/// and the job completes. Whole-file faults (a truncated COCO file, an unterminated CSV quote) are errors naming the
/// file; bad weights (NaN, pickle) are in <see cref="EngineFaultTests"/>.
/// </summary>
public sealed class BadInputCatalogueTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Every_bad_item_gets_its_own_error_and_the_good_ones_equal_a_clean_run()
    {
        using var data = new JobFixtureData(images: 4, faults: false);
        var manifest = new ManifestDataset(Path.Combine(data.Folder, "catalogue"), data.Dataset);
        string File_(string name, byte[] bytes) { var p = Path.Combine(manifest.Folder, name); File.WriteAllBytes(p, bytes); return p; }
        var good = manifest.Images[0];
        var goodImage = ImageLoader.Load(good.Image);
        var goodJpeg = File.ReadAllBytes(good.Image);
        int w = goodImage.Width, h = goodImage.Height;
        var aMask = good.Masks[0];

        // A full mask is valid: it is scored like any other (kept in the clean run too).
        var full = File_("full.png", PngWriter.Encode(new BinaryMask(w, h, Enumerable.Repeat((byte)1, w * h).ToArray())));
        manifest.Images[1].Masks.Add(new("full-mask", full, "dog"));
        var clean = manifest.Write("clean.jsonl");

        // Bad images (each with a valid mask).
        var badImages = new (string Id, string Path, string Cause)[]
        {
            ("corrupt-image", File_("corrupt.jpg", "this is not a JPEG"u8.ToArray()), "not a recognised image"),
            ("truncated-image", File_("truncated.jpg", goodJpeg[..(goodJpeg.Length / 2)]), "truncated"),
            ("zero-byte-image", File_("empty.jpg", []), "is empty"),
            ("missing-image", Path.Combine(manifest.Folder, "no-such.jpg"), "does not exist"),
            ("bomb-image", File_("bomb.png", PngHeader(100_000, 100_000)), "pixels"),
            ("traversal-image", "../../../../../../../../etc/hostname", "outside the folders"),
        };
        foreach (var (id, file, _) in badImages) manifest.Add(new(id, file, [aMask with { Id = id + "-m" }]));
        // Bad masks on a good image: the image's good masks are still scored.
        var goodWithBad = manifest.Images[2];
        var badMasks = new (string Id, string Path, string Cause)[]
        {
            ("missing-mask", Path.Combine(manifest.Folder, "no-such.png"), "does not exist"),
            ("size-mismatch-mask", File_("square.png", PngWriter.Encode(new BinaryMask(w, w, Enumerable.Repeat((byte)1, w * w).ToArray()))), "aspect"),
            ("empty-mask", File_("empty-mask.png", PngWriter.Encode(new BinaryMask(w, h, new byte[w * h]))), "empty"),
            ("non-png-mask", File_("text.png", "P1 not an image"u8.ToArray()), "not a recognised image"),
            ("traversal-mask", "../../../../../../../../etc/hostname", "outside the folders"),
        };
        var withBadMasks = goodWithBad with { Id = "bad-masks", Masks = [.. goodWithBad.Masks.Select(m => m with { Id = "bm-" + m.Id }), .. badMasks.Select(b => new ManifestDataset.MaskItem(b.Id, b.Path, "cat"))] };
        manifest.Add(withBadMasks);
        // Bad lines and labels.
        manifest.Add(good with { Id = "unknown-label", Masks = [aMask with { Id = "unknown-label-m", Label = "unicorn" }] });
        manifest.AddRaw("{\"image\": \"a.jpg\", \"masks\": [".Select(c => (byte)c).ToArray());
        manifest.AddRaw([.. "{\"image\": \"caf"u8, 0xE9, .. ".jpg\", \"id\": \"latin1\", \"masks\": []}"u8]);
        var path = manifest.Write("catalogue.jsonl");

        var cleanSpec = data.Settings("catalogue-clean") with { Format = "jsonl", DatasetRoot = clean, Split = null, ClassesFile = manifest.ClassesFile };
        var expected = data.Direct(cleanSpec);
        var spec = cleanSpec with { DatasetRoot = path, OutputFolder = Path.Combine(data.Folder, "catalogue-job") };
        var job = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-catalogue");
        await job.SubmitAsync(spec);
        var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(2));

        Assert.Equal(JobState.Completed, done.State);
        var rows = await JobRows.MasksAsync(spec.OutputFolder);
        var errors = rows.Where(r => r.Error is not null).ToList();
        foreach (var (id, _, cause) in badImages.Where(b => b.Id != "traversal-image"))
            Assert.Contains(errors, r => r.ImageId == id && r.MaskId == id + "-m" && r.Error!.Contains(cause, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(errors, r => r.ImageId == "traversal-image" && r.Error!.Contains("etc/hostname") && r.Error.Contains("outside the folders"));
        foreach (var (id, _, cause) in badMasks.Where(b => b.Id != "traversal-mask"))
            Assert.Contains(errors, r => r.ImageId == "bad-masks" && r.MaskId == id && r.Error!.Contains(id == "missing-mask" ? "no-such.png" : id is "empty-mask" ? id : "", StringComparison.Ordinal)
                && r.Error.Contains(cause, StringComparison.OrdinalIgnoreCase));
        Assert.Contains(errors, r => r.ImageId == "bad-masks/traversal-mask" && r.Error!.Contains("outside the folders"));
        Assert.Contains(errors, r => r.ImageId == "unknown-label/unknown-label-m" && r.Error!.Contains("'unicorn'"));
        Assert.Contains(errors, r => r.Error!.Contains("catalogue.jsonl:") && r.Error.Contains("UTF-8", StringComparison.OrdinalIgnoreCase));
        Assert.True(errors.Count(r => r.Error!.Contains("catalogue.jsonl:")) >= 4, string.Join("\n", errors.Select(e => e.Error)));
        // No error leaks a file's contents or is an engine fault.
        Assert.All(errors, e => Assert.DoesNotContain("Exception:", e.Error!.Split(": ", 2)[^1]));

        // The good items: every (mask, method) row equals the clean run's.
        var cleanJob = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-catalogue-clean");
        await cleanJob.SubmitAsync(cleanSpec);
        Assert.Equal(JobState.Completed, (await TestCluster.WaitAsync(cleanJob, TimeSpan.FromMinutes(2))).State);
        var cleanRows = (await JobRows.MasksAsync(cleanSpec.OutputFolder)).ToDictionary(r => (r.ImageId, r.MaskId, r.Method));
        Assert.DoesNotContain(cleanRows.Values, r => r.Error is not null);
        var goodRows = rows.Where(r => r.Error is null).ToList();
        Assert.Equal(cleanRows.Count + goodWithBad.Masks.Count * 2, goodRows.Count);
        foreach (var r in goodRows)
        {
            var key = r.ImageId == "bad-masks" ? (goodWithBad.Id, r.MaskId[3..], r.Method) : (r.ImageId, r.MaskId, r.Method);
            var c = cleanRows[key];
            Assert.Equal((c.Top10, c.Top10Scores, c.DiceLoss), (r.Top10, r.Top10Scores, r.DiceLoss), new RowComparer());
        }
        Expect.SameCounts(expected, await cleanJob.GetResultsAsync());
        Assert.Contains(goodRows, r => r.MaskId == "full-mask");
    }

    [Fact]
    public async Task A_truncated_coco_file_fails_the_job_naming_the_file()
    {
        using var data = new JobFixtureData(images: 1, faults: false);
        var root = Path.Combine(data.Folder, "coco");
        Directory.CreateDirectory(Path.Combine(root, "annotations"));
        Directory.CreateDirectory(Path.Combine(root, "val2017"));
        File.WriteAllText(Path.Combine(root, "annotations", "instances_val2017.json"),
            """{"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}], "annotations": [{"id": 2, "image_id": 1, "categ""");
        var spec = data.Settings("coco-truncated") with { Format = "coco", DatasetRoot = root, Split = "val2017" };
        var job = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-coco-truncated");
        string error;
        try
        {
            await job.SubmitAsync(spec);
            var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(1));
            Assert.Equal(JobState.Failed, done.State);
            error = done.Error!;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException) { error = e.Message; }   // refused at submit (#13's validator)
        Assert.Contains("instances_val2017.json", error);
    }

    [Fact]
    public async Task An_unterminated_csv_quote_is_an_error_naming_the_file_and_line_not_a_silent_swallow()
    {
        using var data = new JobFixtureData(images: 4, faults: false);
        var csv = Directory.GetFiles(data.Dataset.Root, "*segmentation*.csv", SearchOption.AllDirectories).Single(f => f.Contains(data.Dataset.Split));
        var lines = File.ReadAllLines(csv);
        // The second data row opens a quote it never closes: every later row would disappear into it.
        int comma = lines[2].IndexOf(',', StringComparison.Ordinal);
        lines[2] = lines[2][..(comma + 1)] + "\"" + lines[2][(comma + 1)..];
        File.WriteAllLines(csv, lines);
        var spec = data.Settings("csv-quote");
        var job = fixture.Cluster.Client.GetGrain<IJobCoordinatorGrain>("job-csv-quote");
        string report;
        try
        {
            await job.SubmitAsync(spec);
            var done = await TestCluster.WaitAsync(job, TimeSpan.FromMinutes(1));
            var rowErrors = (await JobRows.MasksAsync(spec.OutputFolder)).Where(r => r.Error is not null).Select(r => r.Error!);
            report = string.Join("\n", rowErrors.Prepend(done.Error ?? ""));
            // Either the job fails or the rows after the bad one are still read: never all rows "done" with some swallowed.
            Assert.True(done.State == JobState.Failed || done.MasksDone + done.MasksFailed + done.ReadErrors >= data.Dataset.Masks - 1, report);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException) { report = e.Message; }
        Assert.Contains(Path.GetFileName(csv), report);
        Assert.Contains("quote", report, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A PNG that claims <paramref name="width"/>×<paramref name="height"/> (a decompression bomb's header).</summary>
    static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (gray), compression, filter, interlace 0
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] body)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, body.Length);
        s.Write(len);
        var typed = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typed));
        s.Write(len);
    }

    static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    sealed class RowComparer : IEqualityComparer<(IReadOnlyList<string>, IReadOnlyList<float>, float?)>
    {
        public bool Equals((IReadOnlyList<string>, IReadOnlyList<float>, float?) a, (IReadOnlyList<string>, IReadOnlyList<float>, float?) b) =>
            a.Item1.SequenceEqual(b.Item1) && a.Item2.SequenceEqual(b.Item2) && a.Item3 == b.Item3;
        public int GetHashCode((IReadOnlyList<string>, IReadOnlyList<float>, float?) v) => 0;
    }
}
