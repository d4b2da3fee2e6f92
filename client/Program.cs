using System.CommandLine;
using MaskInversion.Client.Commands;
using MaskInversion.Client.Jobs;

// The job commands come from the thin Jobs library and touch neither the engine nor TorchSharp; the commands that
// run tensors (demo, bench, train, eval) load the engine when they run.
var root = new RootCommand("MaskInversion.Cluster client: run MaskInversion jobs, benchmarks and tools.");
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
foreach (var command in ImageCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(MiniClipCommands.Train());
root.Subcommands.Add(MiniClipCommands.Eval());
return await root.Parse(args).InvokeAsync();
