using OrleansBus.Cli;

return await ObusCommand.RunAsync(args);
