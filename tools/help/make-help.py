#!/usr/bin/env python3
"""Writes src/Cmdlets/en-US/ConnTrack.dll-Help.xml (MAML) from the help text below.
Edit the text here and re-run: python3 tools/help/make-help.py"""
import os
from xml.sax.saxutils import escape

TYPES_NOTE = ("ConnInfo property types: ts is a UTC DateTime (Zeek's epoch seconds, microsecond precision kept); "
              "orig_h and resp_h are System.Net.IPAddress (compare with strings: Where-Object resp_h -eq '10.0.0.1'); "
              "ports, counts and byte totals are numbers (int ports, Int64 counts) so -eq/-gt and Sort-Object compare numerically; "
              "duration is a Double of seconds (Where-Object duration -gt 10 means ten seconds; a TimeSpan would read 10 as ticks); "
              "local_orig/local_resp are Booleans; tunnel_parents is a set of uids that prints comma-separated. "
              "Fields Zeek leaves unset ('-') are $null. The default table view prints '-' for them, as zeek-cut does. "
              "Properties can be set (e.g. to build a connection for Export-ConnLog); a port outside 0-65535, a negative count or a duration that is negative or not a number is refused.")

CONFIG_DESC = "A YAML configuration file (see New-ConnTrackConfig). Keys not in the file keep Zeek's defaults. A file that cannot be read or parsed ends the command with the error ConfigFileInvalid (ConfigFileNotFound when missing)."
CONFIG_OBJ = "An options object, typically from Get-ConnTrackConfig, changed in script and passed on. Used instead of -ConfigPath."

def p(name, typ, desc, required=False, position="named", pipeline="False", wildcards=False, aliases=None, default=None, sets=None):
    return dict(name=name, type=typ, desc=desc, required=required, position=position, pipeline=pipeline,
                wildcards=wildcards, aliases=aliases or [], default=default, sets=sets)

COMMON_READ = [
    p("ThreadCount", "Int32", "Threads the engine reads and tracks on. 1 reads and tracks on one thread. More runs one thread reading and decoding and the rest tracking, the flows sharded by a symmetric hash over one connection table per tracking thread; the records are the same (with 2, one tracking thread, even the uids and the order are; with more, uids differ from a one-thread run and records come out in a different order). 0, the default, uses every core for a first capture of 128 MiB or more on a machine of 2 cores or more, and one thread otherwise (on 2 cores, a reading thread and a tracking thread took 0.85x–1.00x the time of one thread in the sets measured). Whatever the count, each file is read and tracked on threads of the engine's own while the pipeline's thread writes the records out, so the commands downstream do their work beside the tracking (a file under 1 MiB is read at once on the pipeline's thread: handing it over would cost more).", default="0"),
    p("PerFile", "SwitchParameter", "Tracks each file alone: a new tracker per file, and every connection still open at the end of a file is emitted then. Without it several files form one trace, as rotated captures of one sensor do when Zeek reads them in sequence: a connection spanning two files is one record."),
    p("ConfigPath", "String", CONFIG_DESC),
    p("Config", "ConnTrackOptions", CONFIG_OBJ),
    p("LikelyServerPorts", "String[]", "Ports that mark the endpoint using them as the responder when a connection is seen mid-stream (Zeek's likely_server_ports), written as Zeek writes ports: 443/tcp, 53/udp, 8/icmp. Replaces the default set. A malformed port ends the command (ConfigParameterInvalid)."),
    p("LocalNets", "String[]", "Networks whose addresses are local (Zeek's Site::local_nets), in CIDR form such as 10.0.0.0/8 or fd00::/8; they set local_orig and local_resp. Replaces the configured networks."),
    p("IgnoreChecksums", "SwitchParameter", "Does not verify IP, TCP and UDP checksums (zeek -C). Needed for traffic captured on the sending host when the NIC computes checksums (offloading), and always for loopback captures; otherwise such packets are counted as bad checksums and show as C in history, as in Zeek."),
    p("Filter", "String", "A BPF capture filter (tcpdump syntax, e.g. 'tcp port 443' or 'not udp') applied to every packet before tracking. libpcap compiles it; an expression it rejects, or a machine without libpcap, ends the command with CaptureFilterInvalid."),
]

COMMANDS = [
 dict(name="Read-ConnTrace", synopsis="Reads pcap and pcapng captures and emits one Zeek conn.log record per connection.",
  description=["Read-ConnTrace reads capture files (pcap or pcapng, either optionally gzip-compressed, recognised by content; no libpcap is needed) and tracks connections exactly as Zeek 9.1 does, emitting one ConnInfo object per connection with the fields and meanings of Zeek's conn.log.",
               "Records stream out as connections end (on FIN/RST and timers driven by packet time), not at the end of the input; what is still open when the trace ends is emitted last. Stopping the pipeline early (Select-Object -First, Ctrl+C) stops the read at once and closes the file.",
               "Several files, from -Path wildcards or from the pipeline, form one trace in the order given, unless -PerFile. A file that is missing, is not a capture, is truncated or corrupt, or has an unsupported link type is one non-terminating error that names the file (CaptureFileNotFound, CaptureFileNotACapture, CaptureFileTruncated, CaptureFileCorrupt, CaptureLinkTypeUnsupported); the other files go on, and every connection tracked before a truncation is still emitted.",
               "Long reads show progress (bytes, packets, connections, rate).", TYPES_NOTE],
  sets=[("Path", True), ("LiteralPath", False)],
  params=[p("Path", "String[]", "Capture files to read. Wildcards are expanded; a wildcard that matches nothing is not an error, a plain path that does not exist is (CaptureFileNotFound).", required=True, position="0", pipeline="True (ByValue, ByPropertyName)", wildcards=True, sets=["Path"]),
          p("LiteralPath", "String[]", "Capture files to read, taken literally (no wildcards). Get-ChildItem and Get-Item output binds here by its PSPath property.", required=True, pipeline="True (ByPropertyName)", aliases=["PSPath", "LP"], sets=["LiteralPath"])] + COMMON_READ,
  inputs=[("System.String[]", "Paths of capture files."), ("System.IO.FileInfo", "Files from Get-ChildItem or Get-Item (bound to -LiteralPath by PSPath).")],
  outputs=[("ConnTrack.Model.ConnInfo", "One object per connection, with Zeek's conn.log field names.")],
  examples=[("Read a capture", "Read-ConnTrace -Path ./samples/loopback.pcap -IgnoreChecksums", "Reads the sample capture (loopback traffic, hence -IgnoreChecksums) and prints its connections in a zeek-cut-like table."),
            ("Find refused connections", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Where-Object conn_state -eq REJ", "conn_state and the other fields filter with the usual operators."),
            ("The longest connections", "Read-ConnTrace ./samples/*.pcap -IgnoreChecksums | Sort-Object duration -Descending | Select-Object -First 3", "duration is seconds as a Double, so it sorts numerically. All matching files form one trace."),
            ("Connections by service", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Group-Object proto", "Groups the connections by transport protocol; Group-Object service works the same way."),
            ("Files from Get-ChildItem, each alone", "Get-ChildItem ./samples -Filter *.pcap | Read-ConnTrace -PerFile -IgnoreChecksums", "Get-ChildItem output binds to -LiteralPath; -PerFile tracks each file alone."),
            ("Local networks and server ports", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums -LocalNets 10.0.0.0/8, 192.168.0.0/16 -LikelyServerPorts 18080/tcp, 53/udp", "local_orig and local_resp now say whether each endpoint is in 10.0.0.0/8 or 192.168.0.0/16 (127.0.0.1 is neither)."),
            ("Only some traffic", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums -Filter 'udp or icmp'", "A BPF filter keeps only UDP and ICMP packets before tracking.")]),
 dict(name="Watch-ConnInterface", synopsis="Tracks the connections on a live network interface and emits one Zeek conn.log record per connection as it ends.",
  description=["Watch-ConnInterface captures on an interface through libpcap (Npcap on Windows) and tracks connections as Read-ConnTrace does. Records stream out as connections end; when the wire is quiet the clock still moves, so inactivity timers fire.",
               "The capture ends after -Duration, after -Count packets, or on Ctrl+C; every connection still open is then emitted too. Capturing needs rights (root, or CAP_NET_RAW and CAP_NET_ADMIN on Linux) and libpcap; without them the command ends with one error that says what to do.", TYPES_NOTE],
  sets=[("__AllParameterSets", True)],
  params=[p("Interface", "String", "The capture device, as Get-ConnInterface lists it (e.g. eth0, lo). Tab completion offers the devices.", required=True, position="0"),
          p("Filter", "String", "A BPF capture filter (tcpdump syntax), e.g. 'tcp port 443'. Applied by libpcap in the kernel.", position="1"),
          p("Duration", "TimeSpan", "Stops the capture after this long, e.g. 00:05:00 or (New-TimeSpan -Minutes 5)."),
          p("Count", "Int64", "Stops the capture after this many packets."),
          p("Promiscuous", "SwitchParameter", "Puts the interface in promiscuous mode, to see traffic not addressed to this host."),
          p("SnapLength", "Int32", "Bytes kept of each packet (libpcap's snaplen), 64 to 262144; the default keeps whole packets. Shorter lengths lower the load; conn.log sizes come from headers, so they stay right.", default="262144"),
          p("IgnoreChecksums", "SwitchParameter", "Does not verify checksums (zeek -C). Needed on the loopback device and for traffic this host sends when the NIC computes checksums (offloading)."),
          p("ConfigPath", "String", CONFIG_DESC),
          p("Config", "ConnTrackOptions", CONFIG_OBJ)],
  inputs=[("None", "This command takes no pipeline input.")],
  outputs=[("ConnTrack.Model.ConnInfo", "One object per connection, as connections end.")],
  examples=[("Watch the loopback device for two seconds", "Watch-ConnInterface -Interface lo -Duration 00:00:02 -IgnoreChecksums", "Emits every connection seen on lo during two seconds, then those still open."),
            ("A filter and a packet limit", "Watch-ConnInterface -Interface lo -Filter 'udp' -Count 10 -Duration 00:00:02 -IgnoreChecksums", "Captures UDP only and stops after ten packets or two seconds, whichever comes first."),
            ("Options from a configuration object", "$config = Get-ConnTrackConfig; $config.UdpInactivityTimeout = [TimeSpan]::FromSeconds(10); Watch-ConnInterface lo -Duration 00:00:02 -SnapLength 128 -Promiscuous -Config $config -IgnoreChecksums", "Shortens the UDP inactivity timeout, keeps 128 bytes per packet and captures promiscuously.")]),
 dict(name="Get-ConnInterface", synopsis="Lists the network interfaces ConnTrack can capture on.",
  description=["Get-ConnInterface lists the capture devices libpcap knows: name, description, addresses, flags, and link type (read by opening the device, so it is empty without capture rights). Watch-ConnInterface -Interface takes the names; its tab completion uses this list."],
  sets=[("__AllParameterSets", True)],
  params=[p("Name", "String[]", "Device names to list; wildcards allowed. All devices when omitted.", position="0", pipeline="True (ByValue, ByPropertyName)", wildcards=True)],
  inputs=[("System.String[]", "Device names.")],
  outputs=[("ConnTrack.Model.ConnInterfaceInfo", "One object per capture device.")],
  examples=[("All devices", "Get-ConnInterface", "Lists every capture device."),
            ("One device", "Get-ConnInterface -Name lo", "Shows the loopback device."),
            ("By wildcard", "Get-ConnInterface l*", "Devices whose name starts with l.")]),
 dict(name="Export-ConnLog", synopsis="Writes connection records as a Zeek conn.log, Zeek JSON or CSV.",
  description=["Export-ConnLog writes ConnInfo objects (from Read-ConnTrace, Watch-ConnInterface or Import-ConnLog) with the engine's writers: -Format Zeek is Zeek's ASCII conn.log byte for byte (the # header lines, tab-separated fields, #close), Json is Zeek's JSON writer (one object per line), Csv has a header row and one column per conn.log field with Zeek's value text.",
               "With -Path the log goes to that file (overwritten unless -NoClobber; -Force also replaces a read-only file) and the command outputs the file. Without -Path the lines go down the pipeline as strings."],
  sets=[("ToPipeline", False), ("ToFile", False)],
  params=[p("InputObject", "ConnInfo", "The connection records to write.", required=True, pipeline="True (ByValue)"),
          p("Format", "ConnLogFormat", "Zeek (the default), Json or Csv.", position="0", default="Zeek"),
          p("Path", "String", "The file to write. Without it the lines are written to the pipeline.", required=True, sets=["ToFile"]),
          p("NoClobber", "SwitchParameter", "Does not overwrite an existing file: the command ends with LogFileExists instead.", sets=["ToFile"]),
          p("Force", "SwitchParameter", "Overwrites the file even if it is read-only.", sets=["ToFile"]),
          p("WhatIf", "SwitchParameter", "Shows what would be written without writing it."),
          p("Confirm", "SwitchParameter", "Asks for confirmation before writing the file.")],
  inputs=[("ConnTrack.Model.ConnInfo", "Connection records.")],
  outputs=[("System.String", "Lines of the log, without -Path."), ("System.IO.FileInfo", "The file written, with -Path.")],
  examples=[("Write a Zeek conn.log", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Path ./conn.log", "The file reads like Zeek's own conn.log; zeek-cut and other Zeek tools read it."),
            ("Zeek JSON lines on the pipeline", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Format Json", "Each line is one JSON object, as Zeek's JSON writer writes it."),
            ("CSV for a spreadsheet", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Format Csv -Path ./conn.csv -Force", "One column per conn.log field."),
            ("Keep an existing file", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Path ./keep.log -NoClobber", "Fails with LogFileExists if keep.log is already there.")]),
 dict(name="Import-ConnLog", synopsis="Reads Zeek conn.logs (TSV or JSON, gzip too) into the same objects Read-ConnTrace emits.",
  description=["Import-ConnLog reads conn.logs written by Zeek (the ASCII form with its # header lines, the header-line form zeek-cut -c writes, or JSON lines), each possibly gzip-compressed (recognised by content), and emits ConnInfo objects, so a script written for captures works on sensor logs.",
               "A log that cannot be read is one error naming the file (LogFileNotFound, LogFileInvalid); the other files go on.", TYPES_NOTE],
  sets=[("Path", True), ("LiteralPath", False)],
  params=[p("Path", "String[]", "Log files to read; wildcards allowed.", required=True, position="0", pipeline="True (ByValue, ByPropertyName)", wildcards=True, sets=["Path"]),
          p("LiteralPath", "String[]", "Log files to read, taken literally. Get-ChildItem output binds here by PSPath.", required=True, pipeline="True (ByPropertyName)", aliases=["PSPath", "LP"], sets=["LiteralPath"])],
  inputs=[("System.String[]", "Paths of logs."), ("System.IO.FileInfo", "Files from Get-ChildItem.")],
  outputs=[("ConnTrack.Model.ConnInfo", "One object per log row.")],
  examples=[("Read a log back", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Path ./conn.log; Import-ConnLog ./conn.log | Where-Object conn_state -eq SF", "Works the same on a sensor's conn.log or conn.log.gz."),
            ("A literal path", "Read-ConnTrace ./samples/loopback.pcap -IgnoreChecksums | Export-ConnLog -Path ./conn.log; Import-ConnLog -LiteralPath ./conn.log | Where-Object proto -eq udp", "No wildcard expansion with -LiteralPath.")]),
 dict(name="Get-ConnTrackConfig", synopsis="Gets the effective engine configuration: Zeek's defaults, or a YAML file over them.",
  description=["Get-ConnTrackConfig returns a ConnTrackOptions object: timeouts, likely server ports, local networks, checksum handling, filter and limits. Without -ConfigPath it holds Zeek 9.1's defaults. Change it in script and pass it to Read-ConnTrace -Config or Watch-ConnInterface -Config."],
  sets=[("__AllParameterSets", True)],
  params=[p("ConfigPath", "String", CONFIG_DESC, position="0")],
  inputs=[("None", "This command takes no pipeline input.")],
  outputs=[("ConnTrack.Engine.Config.ConnTrackOptions", "The effective options.")],
  examples=[("Zeek's defaults", "Get-ConnTrackConfig", "Shows every setting with its default."),
            ("A file's settings", "New-ConnTrackConfig ./conntrack.yaml -Force; Get-ConnTrackConfig -ConfigPath ./conntrack.yaml", "Reads the template back; edit the file to change settings."),
            ("Change a setting for one run", "$config = Get-ConnTrackConfig; $config.TcpInactivityTimeout = [TimeSpan]::FromMinutes(1); Read-ConnTrace ./samples/loopback.pcap -Config $config -IgnoreChecksums", "Uses a one-minute TCP inactivity timeout.")]),
 dict(name="New-ConnTrackConfig", synopsis="Writes a commented YAML configuration template to start from.",
  description=["New-ConnTrackConfig writes a YAML file with every setting, its Zeek default and a comment saying what it does. Edit it and pass it to -ConfigPath. An existing file is kept unless -Force."],
  sets=[("__AllParameterSets", True)],
  params=[p("Path", "String", "The file to write.", required=True, position="0"),
          p("Force", "SwitchParameter", "Overwrites an existing file."),
          p("NoClobber", "SwitchParameter", "Never overwrites an existing file, even with -Force (the command ends with ConfigFileExists)."),
          p("WhatIf", "SwitchParameter", "Shows what would be written without writing it."),
          p("Confirm", "SwitchParameter", "Asks for confirmation before writing the file.")],
  inputs=[("None", "This command takes no pipeline input.")],
  outputs=[("System.IO.FileInfo", "The file written.")],
  examples=[("Start a configuration", "New-ConnTrackConfig -Path ./conntrack.yaml -Force", "Writes the template, replacing any earlier one."),
            ("See what would happen", "New-ConnTrackConfig ./draft.yaml -WhatIf", "Writes nothing.")]),
]

def para(text, ind):
    return f"{ind}<maml:para>{escape(text)}</maml:para>\n"

def param_xml(prm, ind):
    req = "true" if prm["required"] else "false"
    glob = "true" if prm["wildcards"] else "false"
    s = f'{ind}<command:parameter required="{req}" variableLength="true" globbing="{glob}" pipelineInput="{escape(prm["pipeline"])}" position="{prm["position"]}" aliases="{",".join(prm["aliases"]) or "none"}">\n'
    s += f"{ind}  <maml:name>{prm['name']}</maml:name>\n"
    s += f"{ind}  <maml:description>\n" + para(prm["desc"], ind + "    ") + f"{ind}  </maml:description>\n"
    s += f'{ind}  <command:parameterValue required="{"false" if prm["type"] == "SwitchParameter" else "true"}" variableLength="false">{prm["type"]}</command:parameterValue>\n'
    s += f"{ind}  <dev:type><maml:name>{prm['type']}</maml:name></dev:type>\n"
    s += f"{ind}  <dev:defaultValue>{escape(prm['default'] or ('False' if prm['type'] == 'SwitchParameter' else 'None'))}</dev:defaultValue>\n"
    s += f"{ind}</command:parameter>\n"
    return s

out = ['<?xml version="1.0" encoding="utf-8"?>\n',
       '<!-- Generated by tools/help/make-help.py: edit the text there and re-run. -->\n',
       '<helpItems schema="maml" xmlns="http://msh">\n']
for c in COMMANDS:
    verb, noun = c["name"].split("-")
    o = ('  <command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">\n'
         f"    <command:details>\n      <command:name>{c['name']}</command:name>\n      <command:verb>{verb}</command:verb>\n      <command:noun>{noun}</command:noun>\n"
         f"      <maml:description>\n" + para(c["synopsis"], "        ") + "      </maml:description>\n    </command:details>\n")
    o += "    <maml:description>\n" + "".join(para(t, "      ") for t in c["description"]) + "    </maml:description>\n"
    o += "    <command:syntax>\n"
    for set_name, _ in c["sets"]:
        o += f"      <command:syntaxItem>\n        <maml:name>{c['name']}</maml:name>\n"
        for prm in c["params"]:
            if prm["sets"] is None or set_name in prm["sets"] or set_name == "__AllParameterSets":
                o += param_xml(prm, "        ")
        o += "      </command:syntaxItem>\n"
    o += "    </command:syntax>\n    <command:parameters>\n"
    for prm in c["params"]:
        o += param_xml(prm, "      ")
    o += "    </command:parameters>\n    <command:inputTypes>\n"
    for t, d in c["inputs"]:
        o += f"      <command:inputType>\n        <dev:type><maml:name>{t}</maml:name></dev:type>\n        <maml:description>\n" + para(d, "          ") + "        </maml:description>\n      </command:inputType>\n"
    o += "    </command:inputTypes>\n    <command:returnValues>\n"
    for t, d in c["outputs"]:
        o += f"      <command:returnValue>\n        <dev:type><maml:name>{t}</maml:name></dev:type>\n        <maml:description>\n" + para(d, "          ") + "        </maml:description>\n      </command:returnValue>\n"
    o += "    </command:returnValues>\n    <command:examples>\n"
    for i, (title, code, remark) in enumerate(c["examples"], 1):
        o += (f"      <command:example>\n        <maml:title>-------------------------- Example {i}: {escape(title)} --------------------------</maml:title>\n"
              f"        <dev:code>{escape(code)}</dev:code>\n        <dev:remarks>\n" + para(remark, "          ") + "        </dev:remarks>\n      </command:example>\n")
    o += "    </command:examples>\n    <command:relatedLinks>\n"
    for other in COMMANDS:
        if other["name"] != c["name"]:
            o += f"      <maml:navigationLink><maml:linkText>{other['name']}</maml:linkText></maml:navigationLink>\n"
    o += "    </command:relatedLinks>\n  </command:command>\n"
    out.append(o)
out.append("</helpItems>\n")
dest = os.path.join(os.path.dirname(__file__), "..", "..", "src", "Cmdlets", "en-US", "ConnTrack.dll-Help.xml")
with open(dest, "w", encoding="utf-8", newline="\n") as f:
    f.write("".join(out))
print("wrote", os.path.normpath(dest))
