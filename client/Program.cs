using System.CommandLine;
using MaskInversion.Client.Commands;

var root = new RootCommand("MaskInversion.Cluster client: run MaskInversion jobs, benchmarks and tools.");
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TokenizeCommand.Create());
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(MiniClipCommands.Train());
root.Subcommands.Add(MiniClipCommands.Eval());
return await root.Parse(args).InvokeAsync();
