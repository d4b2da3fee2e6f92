namespace MaskInversion.Core.Synthetic;

/// <summary>What <see cref="SceneDataset.WriteOpenImages"/> wrote for one split.</summary>
public sealed record SceneDatasetSummary(string Root, string Split, int Images, int Objects, string AnnotationsCsv, string CaptionsJsonl);
