namespace MaskInversion.Grains;

/// <summary>What the job coordinators on this silo settled since it started (DI singleton), for the silo's Prometheus
/// endpoint: each coordinator adds what it counts, so summing the silos gives the cluster (a job that moves to another
/// silo carries on counting there).</summary>
public sealed class JobActivity
{
    long masksProcessed, masksFailed, imagesProcessed, imagesFailed, retries;

    public long MasksProcessed => Interlocked.Read(ref masksProcessed);
    public long MasksFailed => Interlocked.Read(ref masksFailed);
    public long ImagesProcessed => Interlocked.Read(ref imagesProcessed);
    public long ImagesFailed => Interlocked.Read(ref imagesFailed);
    /// <summary>Image dispatches that were sent again (silo lost, timeout).</summary>
    public long Retries => Interlocked.Read(ref retries);

    public void Settled(ImageOutcome outcome)
    {
        int failed = outcome.Masks.Count(m => m.Error is not null);
        Interlocked.Add(ref masksProcessed, outcome.Masks.Length - failed);
        Interlocked.Add(ref masksFailed, failed);
        Interlocked.Increment(ref outcome.Error is null ? ref imagesProcessed : ref imagesFailed);
    }

    public void Retried() => Interlocked.Increment(ref retries);
}
