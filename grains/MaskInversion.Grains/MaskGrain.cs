using MaskInversion.Core;
using MaskInversion.Core.Pipeline;
using Orleans.Placement;

namespace MaskInversion.Grains;

[GenerateSerializer]
public sealed class MaskGrainState
{
    [Id(0)] public MaskRecord? Record { get; set; }
}

/// <summary>
/// One query mask. PreferLocalPlacement puts it on its image grain's silo, where the prepared image its handle
/// names lives in the executor, so no tensor crosses the network. Its record (top-10 per method, Dice, optional
/// embedding, or the error) is stored once; a repeated request returns it without recomputing.
/// </summary>
[PreferLocalPlacement]
public sealed class MaskGrain(ComputeExecutor executor,
    [PersistentState("mask", StorageNames.Masks)] IPersistentState<MaskGrainState> state) : Grain, IMaskGrain
{
    public Task<MaskRecord?> GetRecordAsync() => Task.FromResult(state.State.Record);

    public async Task<MaskRecord> RunAsync(PreparedImageHandle image, MaskWork work)
    {
        MaskRecord record;
        try
        {
            // Decoding a mask PNG is CPU work but no tensor work: the thread pool, not the grain scheduler, does it.
            var mask = await Task.Run(() => MaskInput.Load(work.MaskId, work.Source.ToSource(), image.Width, image.Height, executor.Paths.Images));
            var results = await executor.EvaluateAsync(image, mask, work.Overlay);
            record = new MaskRecord(work.MaskId, work.ClassIndex, results.Select(r => r.ToMethodResult()).ToArray(), null);
        }
        catch (ImageNotPreparedException)
        {
            // Not this mask's fault (this activation is not beside the image, or the image was released): go, so
            // the retry activates it next to the image grain again.
            DeactivateOnIdle();
            throw;
        }
        catch (Exception ex) when (ItemDataException.IsAboutItem(ex))
        {
            // Missing or undecodable mask file, bad polygon/RLE, a path outside the dataset roots: the mask's own data,
            // so final, recorded like a result. Anything else (a libtorch error, out of memory) says nothing about the
            // mask: it propagates unrecorded, and the coordinator retries the image.
            record = new MaskRecord(work.MaskId, work.ClassIndex, [], DirectRun.Error(ex));
        }
        catch (Exception ex) when (ComputeFaultException.Carry(ex) != ex)
        {
            throw ComputeFaultException.Carry(ex);
        }
        state.State.Record = record;
        await state.WriteRecoveringAsync();
        // The record is in storage: free the activation so millions of masks do not stay in memory.
        DeactivateOnIdle();
        return record;
    }
}
