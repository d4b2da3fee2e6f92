namespace MaskInversion.Grains;

public enum JobState { NotStarted, Running, Cancelling, Cancelled, Completed, Failed }

/// <summary>A job's progress, cheap to query while it runs.</summary>
/// <param name="ImagesTotal">Known once the counting pass over the dataset has finished; null before.</param>
/// <param name="MasksPerSecond">Over the current run of the coordinator (since submit or resume).</param>
[GenerateSerializer, Immutable]
public sealed record JobProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobState State,
    [property: Id(2)] long ImagesDone,
    [property: Id(3)] long ImagesFailed,
    [property: Id(4)] long MasksDone,
    [property: Id(5)] long MasksFailed,
    [property: Id(6)] long ReadErrors,
    [property: Id(7)] long? ImagesTotal,
    [property: Id(8)] long? MasksTotal,
    [property: Id(9)] long InFlight,
    [property: Id(10)] long Retries,
    [property: Id(11)] double MasksPerSecond,
    [property: Id(12)] TimeSpan? Eta,
    [property: Id(13)] string? Error,
    [property: Id(14)] string OutputFolder);

/// <summary>Retrieval counters of one class under one method.</summary>
[GenerateSerializer, Immutable]
public sealed record ClassCounts(
    [property: Id(0)] int ClassIndex,
    [property: Id(1)] long Count,
    [property: Id(2)] long Hits1,
    [property: Id(3)] long Hits5,
    [property: Id(4)] long Hits10);

/// <summary>Class-retrieval figures of one method, from per-class counters.</summary>
[GenerateSerializer, Immutable]
public sealed record RetrievalSummary(
    [property: Id(0)] double Acc1,
    [property: Id(1)] double Acc5,
    [property: Id(2)] double Acc10,
    [property: Id(3)] double MeanPerClassRecall,
    [property: Id(4)] long Masks,
    [property: Id(5)] ClassCounts[] PerClass);

/// <summary>Referring-expression figures of one method (paper §4): the true mask retrieved at rank 1/5/10, the mean
/// and the overall IoU of the top-ranked mask with the true one.</summary>
/// <param name="OIoU">Total intersection over total union, over all expressions.</param>
/// <param name="Images">Images with at least one scored expression.</param>
[GenerateSerializer, Immutable]
public sealed record ReferringSummary(
    [property: Id(0)] double Acc1,
    [property: Id(1)] double Acc5,
    [property: Id(2)] double Acc10,
    [property: Id(3)] double MIoU,
    [property: Id(4)] double OIoU,
    [property: Id(5)] long Expressions,
    [property: Id(6)] long Images);

/// <summary>Dataset-wide figures of one method, one member per metric of the job's metric registry; a metric that
/// counted nothing for the job (retrieval in a referring job, referring in a class job) leaves its member null.</summary>
/// <param name="MeanDiceLoss">Mean final Dice loss (1 − soft Dice of map and mask; lower is better) of the method's inversions; null for methods that do not invert.</param>
[GenerateSerializer, Immutable]
public sealed record MethodSummary(
    [property: Id(0)] string Method,
    [property: Id(1)] RetrievalSummary? Retrieval = null,
    [property: Id(2)] double? MeanDiceLoss = null,
    [property: Id(3)] ReferringSummary? Referring = null);

[GenerateSerializer, Immutable]
public sealed record JobResults(
    [property: Id(0)] JobProgress Progress,
    [property: Id(1)] MethodSummary[] Methods,
    [property: Id(2)] string[] ClassNames);
