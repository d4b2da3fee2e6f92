using MaskInversion.Core;
using MaskInversion.Core.Metrics;
using MaskInversion.Core.Pipeline;
using MaskInversion.Core.Referring;

namespace MaskInversion.Grains;

[GenerateSerializer]
public sealed class ReferringImageState
{
    [Id(0)] public ImageOutcome? Outcome { get; set; }
}

/// <summary>
/// One image of a referring-expression job, on compute silos only (see <see cref="SiloBuilderExtensions"/>). Its
/// expressions rank all its candidate masks together, so the image, not the mask, is the unit of work and of
/// idempotence: it prepares the image once, decodes the candidates, and has the silo's executor embed every candidate
/// under every method in one batch and rank them for every expression (core's <see cref="ReferringEvaluator"/>, the
/// computation a direct run does). The region embeddings never leave the executor (unless the job saves them). The
/// outcome — each candidate's record and each expression's rank, predicted mask and overlap per method — is stored once
/// in the mask-record store (same expiry); a re-dispatched image returns it unchanged, without a forward.
/// </summary>
public sealed class ReferringImageGrain(ComputeExecutor executor, ILocalSiloDetails silo,
    [PersistentState("referring", StorageNames.Masks)] IPersistentState<ReferringImageState> state) : Grain, IReferringImageGrain
{
    // The prepared image this activation owns; never outlives the activation.
    PreparedImageHandle? prepared;

    public async Task<ImageOutcome> ProcessAsync(ImageWork work) => (await ProcessHereAsync(work)) with { Silo = SiloLoadReporter.NameOf(silo) };

    async Task<ImageOutcome> ProcessHereAsync(ImageWork work)
    {
        if (state.State.Outcome is { } recorded)
        {
            DeactivateOnIdle();
            return recorded;
        }
        // Overlays go under the job folder: a plain Orleans client can send work straight here, past the coordinator's check.
        executor.Paths.CheckOutput(work.Job);
        PreparedImageHandle image;
        try
        {
            prepared = image = await executor.PrepareAsync(ImagePlan.For(work, work.Masks.Length));
        }
        catch (Exception ex) when (ItemDataException.IsAboutItem(ex))
        {
            // Unreadable image: a per-item error for the image, its masks and its expressions, not a retry. Other errors
            // (the engine failed to load, libtorch) propagate unrecorded and the coordinator retries.
            var error = DirectRun.Error(ex);
            DeactivateOnIdle();
            return Failed(work, error, work.Masks.ToDictionary(m => m.MaskId, _ => error));
        }
        catch (Exception ex) when (ComputeFaultException.Carry(ex) != ex)
        {
            throw ComputeFaultException.Carry(ex);
        }
        ImageOutcome outcome;
        try
        {
            outcome = await RankAsync(work, image);
        }
        catch (Exception ex) when (ComputeFaultException.Carry(ex) != ex)
        {
            throw ComputeFaultException.Carry(ex);
        }
        finally
        {
            await ReleaseAsync();
        }
        state.State.Outcome = outcome;
        await state.WriteRecoveringAsync();
        // The outcome is in storage: a repeat is answered from it, so the activation can go.
        DeactivateOnIdle();
        return outcome;
    }

    async Task<ImageOutcome> RankAsync(ImageWork work, PreparedImageHandle image)
    {
        // Decoding masks is CPU work but no tensor work: the thread pool, not the grain scheduler, does it.
        var decoded = await Task.Run(() => work.Masks.Select(m =>
        {
            try { return (Mask: MaskInput.Load(m.MaskId, m.Source.ToSource(), image.Width, image.Height, executor.Paths.Images), Error: (string?)null); }
            catch (Exception ex) when (ItemDataException.IsAboutItem(ex)) { return (Mask: (MaskInput?)null, Error: DirectRun.Error(ex)); }
        }).ToArray());
        var maskErrors = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < decoded.Length; i++)
            if (decoded[i].Error is { } e) maskErrors[work.Masks[i].MaskId] = e;
        var candidates = decoded.Where(d => d.Mask is not null).Select(d => d.Mask!).ToList();
        if (candidates.Count == 0) return Failed(work, null, maskErrors);

        var known = candidates.Select(c => c.MaskId).ToHashSet(StringComparer.Ordinal);
        var scored = (work.Expressions ?? []).Where(e => known.Contains(e.MaskId)).ToList();
        var overlays = work.Masks.Where(m => m.Overlay).Select(m => m.MaskId).ToHashSet(StringComparer.Ordinal);
        ReferringImageResult result;
        try
        {
            result = await executor.ReferAsync(image, candidates, scored.Select(e => new ReferringQuery(e.ExpressionId, e.Text, e.MaskId)).ToList(), overlays);
        }
        catch (ImageNotPreparedException)
        {
            // Not this image's fault (its slot was released): go, so the retry prepares it again.
            DeactivateOnIdle();
            throw;
        }
        catch (Exception ex) when (ItemDataException.IsAboutItem(ex))
        {
            // The engine refused the image's own data: recorded for every mask and expression, as a mask grain records
            // it. Engine faults (libtorch, memory) propagate unrecorded, nothing is stored, and the coordinator retries.
            var error = DirectRun.Error(ex);
            return Failed(work, null, work.Masks.ToDictionary(m => m.MaskId, m => maskErrors.GetValueOrDefault(m.MaskId) ?? error));
        }

        var methods = work.Job.ToRegionMethods();
        var regions = result.Regions.ToLookup(r => r.MaskId, StringComparer.Ordinal);
        var masks = work.Masks.Select(m => maskErrors.TryGetValue(m.MaskId, out var error)
            ? new MaskRecord(m.MaskId, m.ClassIndex, [], error)
            : new MaskRecord(m.MaskId, m.ClassIndex, regions[m.MaskId].Select(r => r.ToMethodResult()).ToArray(), null)).ToArray();
        var position = scored.Select((e, i) => (e.ExpressionId, i)).ToDictionary(t => t.ExpressionId, t => t.i, StringComparer.Ordinal);
        var expressions = (work.Expressions ?? []).Select(e => position.TryGetValue(e.ExpressionId, out int q)
            ? new ExpressionRecord(e.ExpressionId, e.MaskId, methods.Select(method => ToResult(method, result.Outcomes[method][q])).ToArray(), null)
            : new ExpressionRecord(e.ExpressionId, e.MaskId, [], UnscoredError(e, maskErrors))).ToArray();
        return new ImageOutcome(work.ImageId, masks, null, expressions);
    }

    static ExpressionResult ToResult(RegionMethod method, ReferringOutcome o) =>
        new(method.Name, o.Rank, o.PredictedMaskId!, o.Intersection, o.Union);

    static string UnscoredError(ExpressionWork e, IReadOnlyDictionary<string, string> maskErrors) =>
        maskErrors.TryGetValue(e.MaskId, out var error) ? $"its mask {e.MaskId} could not be read: {error}"
        : $"it refers to mask {e.MaskId}, which is not one of the image's";

    /// <summary>Nothing could be ranked: every mask carries its error (or the image's) and every expression says why.</summary>
    static ImageOutcome Failed(ImageWork work, string? imageError, IReadOnlyDictionary<string, string> maskErrors)
    {
        var masks = work.Masks.Select(m => new MaskRecord(m.MaskId, m.ClassIndex, [], maskErrors.GetValueOrDefault(m.MaskId) ?? imageError)).ToArray();
        var expressions = (work.Expressions ?? []).Select(e => new ExpressionRecord(e.ExpressionId, e.MaskId, [],
            imageError ?? UnscoredError(e, maskErrors))).ToArray();
        return new ImageOutcome(work.ImageId, masks, imageError, expressions);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => ReleaseAsync();

    Task ReleaseAsync()
    {
        if (prepared is not { } image) return Task.CompletedTask;
        prepared = null;
        return executor.ReleaseAsync(image);
    }
}
