using System.Management.Automation;
using ConnTrack.Engine.Records;
using ConnTrack.Infrastructure;
using ConnTrack.Model;

namespace ConnTrack.Commands;

/// <summary>
/// Import-ConnLog: Zeek conn.logs (ASCII TSV, zeek-cut header form, or JSON lines; gzip too) into the same
/// <see cref="ConnInfo"/> objects Read-ConnTrace emits, so a script written for captures works on sensor logs.
/// </summary>
[Cmdlet(VerbsData.Import, "ConnLog", DefaultParameterSetName = PathSet)]
[OutputType(typeof(ConnInfo))]
public sealed class ImportConnLogCommand : FileInputCommand
{


    protected override void ProcessRecord()
    {
        foreach (var path in ResolveInputFiles(ErrorIds.LogFileNotFound))
        {
            if (Stopping) return;
            ImportOne(path);
        }
    }

    private void ImportOne(string path)
    {
        ZeekLogReader reader;
        try
        {
            reader = ZeekLogReader.Open(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, ErrorIds.LogFileNotFound, ErrorCategory.ReadError, path));
            return;
        }
        using (reader)
        {
            using var rows = reader.ReadRows().GetEnumerator();
            long line = 0;
            while (!Stopping)
            {
                ConnInfo info;
                try
                {
                    if (!rows.MoveNext()) break;
                    line++;
                    if (!reader.Fields.Contains("uid") && !reader.Fields.Contains("id.orig_h"))
                        throw new FormatException("it has neither a uid nor an id.orig_h column");
                    info = ConnInfo.FromRecord(rows.Current.ToConnRecord());
                }
                catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException
                                              or OverflowException or IOException)
                {
                    WriteError(new ErrorRecord(
                        new InvalidDataException($"{path} is not a readable Zeek conn.log (record {line}): {e.Message}", e),
                        ErrorIds.LogFileInvalid, ErrorCategory.InvalidData, path));
                    return;
                }
                WriteObject(info);
            }
        }
    }
}
