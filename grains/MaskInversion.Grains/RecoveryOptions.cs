namespace MaskInversion.Grains;

/// <summary>How a job's coordinator comes back after its silo dies or the cluster restarts (config section
/// "Recovery").</summary>
public sealed class RecoveryOptions
{
    public const string Section = "Recovery";

    /// <summary>Period of the reminder every running job holds: a tick reactivates a coordinator whose silo died (or
    /// the whole cluster restarted), so the job resumes with nobody calling it. The worst-case wait after a loss is
    /// one period plus failure detection. Below a minute Orleans' MinimumReminderPeriod is lowered to match.</summary>
    public TimeSpan ResumeReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>FAULT INJECTION, tests only (null = off, the default): the coordinator SIGKILLs its own process right
    /// after closing Parquet part number N and before the checkpoint that commits it, which is the window the
    /// watermark/part logic has to survive. Never set in production.</summary>
    public int? CrashAfterClosingPart { get; set; }
}
