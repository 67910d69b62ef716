Console.WriteLine("AppHost: not built yet");
