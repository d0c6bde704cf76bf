"""What an independent OPC UA client (asyncua, not node-opcua) sees on a pipac device server.

Usage: python inspect-server.py <endpoint-url> <username> <password> <work-dir>

Makes its own client certificate in <work-dir> (asyncua's generator, application URI
urn:pipac:test:asyncua; the server under test trusts unknown client certificates), connects with
SignAndEncrypt / Basic256Sha256 and a user name, browses the address space the way
an integrator's tool does and prints one JSON document on stdout: the server's certificate
(subject and subject alternative names), ServerStatus (CurrentTime, BuildInfo), the Machinery
Machines folder (OPC 40001-1), every device under the DI DeviceSet with its type, and for every
LADS function (OPC 30500) IsEnabled, the control function's state machine and every value
variable with its node id, EngineeringUnits, EURange, InstrumentRange and timestamps. The jest
spec that runs it (test/opcua.asyncua.e2e.spec.ts) asserts on that document.
"""

import asyncio
import json
import socket
import sys
from pathlib import Path

from asyncua import Client, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DI = "http://opcfoundation.org/UA/DI/"
LADS = "http://opcfoundation.org/UA/LADS/"
MACHINERY = "http://opcfoundation.org/UA/Machinery/"
ADI = "http://opcfoundation.org/UA/ADI/"


def iso(value):
    return value.isoformat() if value is not None else None


def certificate_info(der):
    cert = x509.load_der_x509_certificate(der)
    names = {}
    for oid, key in ((NameOID.COMMON_NAME, "CN"), (NameOID.ORGANIZATION_NAME, "O")):
        attributes = cert.subject.get_attributes_for_oid(oid)
        names[key] = attributes[0].value if attributes else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        dns, ips, uris = [], [], []
    return {"subject": names, "dns": dns, "ip": ips, "uri": uris}


class Inspector:
    def __init__(self, client, namespaces):
        self.client = client
        self.namespaces = namespaces

    def uri(self, index):
        return self.namespaces[index] if index < len(self.namespaces) else None

    def qualified(self, qualified_name):
        return {"ns": self.uri(qualified_name.NamespaceIndex), "name": qualified_name.Name}

    async def child(self, node, uri, name):
        for ref in await node.get_references(
            refs=ua.ObjectIds.HierarchicalReferences, direction=ua.BrowseDirection.Forward
        ):
            if ref.BrowseName.Name == name and self.uri(ref.BrowseName.NamespaceIndex) == uri:
                return self.client.get_node(ref.NodeId)
        return None

    async def children(self, node):
        return [
            (ref, self.client.get_node(ref.NodeId))
            for ref in await node.get_references(
                refs=ua.ObjectIds.HierarchicalReferences, direction=ua.BrowseDirection.Forward
            )
        ]

    def node_id(self, node_id):
        return {"ns": self.uri(node_id.NamespaceIndex), "id": node_id.to_string().split(";", 1)[-1]}

    async def type_of(self, node):
        type_id = await node.read_type_definition()
        if type_id is None:
            return None
        type_node = self.client.get_node(type_id)
        name = await type_node.read_browse_name()
        supertypes = []
        current = type_node
        for _ in range(8):
            parents = await current.get_references(
                refs=ua.ObjectIds.HasSubtype, direction=ua.BrowseDirection.Inverse
            )
            if not parents:
                break
            current = self.client.get_node(parents[0].NodeId)
            supertypes.append(self.qualified(await current.read_browse_name()))
        return {**self.qualified(name), "supertypes": supertypes}

    async def property_value(self, node, uri, name):
        prop = await self.child(node, uri, name)
        if prop is None:
            return None
        try:
            return await prop.read_value()
        except ua.UaStatusCodeError as error:
            return {"error": str(error)}

    async def read_both(self, node):
        """Reads a value with its source and server timestamps (OPC UA Part 4 §5.10.2)."""
        item = ua.ReadValueId()
        item.NodeId = node.nodeid
        item.AttributeId = ua.AttributeIds.Value
        params = ua.ReadParameters()
        params.TimestampsToReturn = ua.TimestampsToReturn.Both
        params.NodesToRead = [item]
        return (await self.client.uaclient.read(params))[0]

    async def read_together(self, nodes):
        """Reads the values of several nodes in one Read request (OPC UA Part 4 §5.10.2)."""
        params = ua.ReadParameters()
        params.TimestampsToReturn = ua.TimestampsToReturn.Both
        for node in nodes:
            item = ua.ReadValueId()
            item.NodeId = node.nodeid
            item.AttributeId = ua.AttributeIds.Value
            params.NodesToRead.append(item)
        return await self.client.uaclient.read(params)

    async def analog(self, node):
        value = await self.read_both(node)
        units = await self.property_value(node, "http://opcfoundation.org/UA/", "EngineeringUnits")
        eu_range = await self.property_value(node, "http://opcfoundation.org/UA/", "EURange")
        instrument = None
        for ref, _ in await self.children(node):
            if ref.BrowseName.Name == "InstrumentRange":
                instrument = self.qualified(ref.BrowseName)
        return {
            "nodeId": self.node_id(node.nodeid),
            "value": value.Value.Value if value.Value is not None else None,
            "status": value.StatusCode.name if value.StatusCode is not None else None,
            "sourceTimestamp": iso(value.SourceTimestamp),
            "serverTimestamp": iso(value.ServerTimestamp),
            # An empty structure (no body) decodes to a bare ExtensionObject: reported as null.
            "units": None
            if not hasattr(units, "UnitId")
            else {
                "namespaceUri": units.NamespaceUri,
                "unitId": units.UnitId,
                "displayName": units.DisplayName.Text,
            },
            "range": None if not hasattr(eu_range, "Low") else {"low": eu_range.Low, "high": eu_range.High},
            "instrumentRange": instrument,
        }

    async def state_machine(self, node):
        current = await self.child(node, "http://opcfoundation.org/UA/", "CurrentState")
        result = {"currentState": None, "currentStateId": None, "availableStates": None}
        if current is not None:
            text = await current.read_value()
            result["currentState"] = text.Text if text is not None else None
            state_id = await self.property_value(current, "http://opcfoundation.org/UA/", "Id")
            result["currentStateId"] = None if state_id is None else self.node_id(state_id)
        available = await self.property_value(node, "http://opcfoundation.org/UA/", "AvailableStates")
        if isinstance(available, list):
            names = []
            for state_id in available:
                names.append((await self.client.get_node(state_id).read_browse_name()).Name)
            result["availableStates"] = names
        transitions = await self.property_value(
            node, "http://opcfoundation.org/UA/", "AvailableTransitions"
        )
        result["availableTransitions"] = len(transitions) if isinstance(transitions, list) else None
        return result

    async def function(self, node):
        browse_name = await node.read_browse_name()
        result = {
            "name": browse_name.Name,
            "nodeId": self.node_id(node.nodeid),
            "type": await self.type_of(node),
            "isEnabled": await self.property_value(node, LADS, "IsEnabled"),
            "values": {},
        }
        variables = {}
        for name in ("TargetValue", "CurrentValue", "SensorValue", "RawValue"):
            variable = await self.child(node, LADS, name)
            if variable is not None:
                variables[name] = variable
                result["values"][name] = await self.analog(variable)
        if "SensorValue" in variables and "RawValue" in variables:
            # Both in one Read request: the plant keeps running, and two reads apart can see
            # two updates; one request is served from one state of the address space.
            pair = await self.read_together([variables["SensorValue"], variables["RawValue"]])
            result["sensorAndRaw"] = [v.Value.Value if v.Value is not None else None for v in pair]
        state = await self.child(node, LADS, "ControlFunctionState")
        if state is not None:
            result["controlFunctionState"] = await self.state_machine(state)
        return result

    async def device(self, node):
        browse_name = await node.read_browse_name()
        device = {
            "name": browse_name.Name,
            "nodeId": self.node_id(node.nodeid),
            "type": await self.type_of(node),
            "functionalUnits": [],
            "parameterSet": None,
        }
        parameters = await self.child(node, DI, "ParameterSet")
        if parameters is not None:
            device["parameterSet"] = []
            for ref, variable in await self.children(parameters):
                entry = {"name": ref.BrowseName.Name, "nodeId": self.node_id(ref.NodeId)}
                if ref.NodeClass == ua.NodeClass.Variable:
                    entry.update(await self.analog(variable))
                device["parameterSet"].append(entry)
        units = await self.child(node, LADS, "FunctionalUnitSet")
        if units is None:
            return device
        for _, unit in await self.children(units):
            unit_name = (await unit.read_browse_name()).Name
            functions = await self.child(unit, LADS, "FunctionSet")
            entry = {"name": unit_name, "functions": []}
            if functions is not None:
                for _, fn in await self.children(functions):
                    entry["functions"].append(await self.function(fn))
            device["functionalUnits"].append(entry)
        return device


APPLICATION_URI = "urn:pipac:test:asyncua"


async def main(url, username, password, work_dir):
    key = Path(work_dir) / "asyncua-key.pem"
    cert = Path(work_dir) / "asyncua-cert.der"
    await setup_self_signed_certificate(
        key,
        cert,
        APPLICATION_URI,
        socket.gethostname(),
        [ExtendedKeyUsageOID.CLIENT_AUTH],
        {"organizationName": "pipac tests"},
    )
    client = Client(url, timeout=30)
    client.application_uri = APPLICATION_URI
    await client.set_security_string(f"Basic256Sha256,SignAndEncrypt,{cert},{key}")
    client.set_user(username)
    client.set_password(password)
    endpoints = await Client(url, timeout=30).connect_and_get_server_endpoints()
    server_certificate = next(e.ServerCertificate for e in endpoints if e.ServerCertificate)
    async with client:
        namespaces = await client.get_namespace_array()
        inspector = Inspector(client, namespaces)
        status = await client.get_node(ua.ObjectIds.Server_ServerStatus).read_value()
        build = status.BuildInfo
        objects = client.nodes.objects
        machines = await inspector.child(objects, MACHINERY, "Machines")
        machine_list = None
        if machines is not None:
            machine_list = []
            for ref, _ in await inspector.children(machines):
                if ref.NodeClass == ua.NodeClass.Object:
                    machine_list.append(
                        {"name": ref.BrowseName.Name, "nodeId": inspector.node_id(ref.NodeId)}
                    )
        device_set = await inspector.child(objects, DI, "DeviceSet")
        devices = []
        for ref, node in await inspector.children(device_set):
            if ref.NodeClass == ua.NodeClass.Object:
                devices.append(await inspector.device(node))
        current_time = await client.get_node(ua.ObjectIds.Server_ServerStatus_CurrentTime).read_value()
        print(
            json.dumps(
                {
                    "namespaces": namespaces,
                    "certificate": certificate_info(server_certificate),
                    "currentTime": iso(current_time),
                    "buildInfo": {
                        "productUri": build.ProductUri,
                        "manufacturerName": build.ManufacturerName,
                        "productName": build.ProductName,
                        "softwareVersion": build.SoftwareVersion,
                        "buildNumber": build.BuildNumber,
                        "buildDate": iso(build.BuildDate),
                    },
                    "machines": machine_list,
                    "devices": devices,
                },
                default=str,
            )
        )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
