using System.CommandLine;
using MaskInversion.Client.Commands;
using MaskInversion.Core.Runtime;

// Before the first tensor: where a silo runs in this process (demo, submit --embedded, bench cluster), libtorch's
// OpenMP team must not spin against the grain threads beside it. Single-threaded tensor loops (training, the
// decomposition benchmark, evaluation) keep OpenMP's default: passive waits cost them a syscall per parallel region.
if (!(args is ["train", ..] or ["eval", ..] or ["bench", "decomposition", ..])) OpenMpSettings.PreferPassiveWaits();

var root = new RootCommand("MaskInversion.Cluster client: run MaskInversion jobs, benchmarks and tools.");
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TokenizeCommand.Create());
foreach (var command in ImageCommands.Create()) root.Subcommands.Add(command);
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(MiniClipCommands.Train());
root.Subcommands.Add(MiniClipCommands.Eval());
return await root.Parse(args).InvokeAsync();
