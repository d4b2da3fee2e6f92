using MaskInversion.Grains;

namespace MaskInversion.Client.Jobs;

/// <summary>The client's exit codes (#13: every command exited 0, also for failed jobs and unknown ids). Shown by
/// <c>client --help</c> and in the README.</summary>
public static class ExitCodes
{
    /// <summary>Done: the job completed, was accepted (submit without --watch), is still running (status), or the
    /// command did what it was asked.</summary>
    public const int Ok = 0;
    /// <summary>The job ended Failed.</summary>
    public const int JobFailed = 1;
    /// <summary>Bad options or input: a missing or unknown option, a file that is not there or not usable, a refused submit.</summary>
    public const int Usage = 2;
    /// <summary>No job has this id.</summary>
    public const int NoSuchJob = 3;
    /// <summary>The job was cancelled.</summary>
    public const int Cancelled = 4;
    /// <summary>No gateway answered within --connect-timeout.</summary>
    public const int NoCluster = 5;

    public const string Help =
        "Exit codes: 0 done (job completed, accepted or still running), 1 job failed, 2 bad options or input (submit refused), " +
        "3 no such job, 4 job cancelled, 5 cannot reach the cluster.";

    /// <summary>What a job in this state exits with.</summary>
    public static int Of(JobState state) => state switch
    {
        JobState.Failed => JobFailed,
        JobState.Cancelled => Cancelled,
        JobState.NotStarted => NoSuchJob,
        _ => Ok,
    };
}

/// <summary>A command that cannot do what it was asked, for a reason the user can act on: its message is printed
/// alone (no stack trace) and the process exits with <see cref="ExitCode"/>.</summary>
public sealed class CommandFailedException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
