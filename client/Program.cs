using System.CommandLine;
using MaskInversion.Client.Commands;
using MaskInversion.Core.Runtime;

// Before the first tensor: libtorch's OpenMP team must not spin against the .NET threads beside it.
OpenMpSettings.PreferPassiveWaits();

var root = new RootCommand("MaskInversion.Cluster client: run MaskInversion jobs, benchmarks and tools.");
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TokenizeCommand.Create());
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(MiniClipCommands.Train());
root.Subcommands.Add(MiniClipCommands.Eval());
return await root.Parse(args).InvokeAsync();
