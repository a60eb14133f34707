#if !ENGINE_HAS_WRITERS
namespace ConnTrack.Engine.Records;

// Build stand-ins for the engine's log writers (records branch, not yet on main). They only keep the build
// green: they write nothing and say so. TODO(merge): delete this file.
internal abstract class PendingWriter(TextWriter output, bool leaveOpen) : IDisposable
{
    public void Write(ConnRecord record) =>
        throw new NotSupportedException($"{GetType().Name} is not in this build yet (the engine's log writers are pending merge).");
    public void Dispose() { if (!leaveOpen) output.Dispose(); }
}
internal sealed class ZeekTsvWriter(TextWriter output, bool leaveOpen = false) : PendingWriter(output, leaveOpen);
internal sealed class ZeekJsonWriter(TextWriter output, bool leaveOpen = false) : PendingWriter(output, leaveOpen);
internal sealed class ConnCsvWriter(TextWriter output, bool leaveOpen = false) : PendingWriter(output, leaveOpen);
#endif
