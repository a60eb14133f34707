using System.Reflection;
using System.Runtime.CompilerServices;

namespace ConnTrack.Engine;

/// <summary>
/// Compiles the engine's per-packet methods on a background thread as soon as a one-thread runner is made, once per
/// process. They are marked AggressiveOptimization, so each is compiled fully optimised at its first call, on the
/// calling thread: without this, the first packets of a trace wait for ~0.1 s of compiling. Started early, the
/// compiling happens on an otherwise idle core while the file is opened and its first packets are read; a method
/// the reading thread reaches first is simply compiled there (the runtime compiles a method once, whoever asks).
/// Measured on a 500k-packet capture (fresh processes, 8 interleaved pairs): the pass 0.37–0.53 s → 0.34–0.45 s.
/// The parallel runner does not start it: its threads already keep both cores busy, and compiling methods a trace
/// may never reach only took CPU from them (4 pairs on the 5M-packet capture: worse in 3).
/// </summary>
internal static class HotPathWarmUp
{
    private static int _started;

    public static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            return;
        var thread = new Thread(() => CompileMarkedMethods()) { IsBackground = true, Name = "ConnTrack warm-up", Priority = ThreadPriority.BelowNormal };
        thread.Start();
    }

    /// <summary>Compiles every non-generic method of the engine marked AggressiveOptimization; returns how many.</summary>
    internal static int CompileMarkedMethods()
    {
        const BindingFlags all = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        Type?[] types;
        try
        {
            types = typeof(HotPathWarmUp).Assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types; // the types that did load
        }
        int compiled = 0;
        foreach (var type in types)
        {
            if (type is null || type.ContainsGenericParameters)
                continue;
            foreach (var method in type.GetMethods(all))
            {
                if ((method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) == 0 ||
                    method.IsAbstract || method.ContainsGenericParameters)
                    continue;
                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    compiled++;
                }
                catch (Exception)
                {
                    // Only a head start: a method not compiled here is compiled at its first call.
                }
            }
        }
        return compiled;
    }
}
