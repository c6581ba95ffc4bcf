// QuPathReader reads a GeoJSON FeatureCollection as QuPath 0.5 does, with Gson as QuPath
// uses it, and prints one JSON line per object it would make: id, objectType, name, class
// path, measurements and metadata. It follows github.com/qupath/qupath,
// qupath-core/src/main/java/qupath/lib/io/QuPathTypeAdapters.java (v0.5:
// PathObjectCollectionTypeAdapter.read, PathObjectTypeAdapter.parseObject,
// MeasurementListTypeAdapter.read) and GsonTools.java (PathClassTypeAdapter.read,
// PathClassProxy, arrayToRgb), and PathClass.fromString/fromCollection/getInstance. Like
// QuPath it has no per-feature recovery: the first exception ends the import (exit 1).
// The geometry is only checked for a type and a coordinates array (QuPath hands it to JTS).
//
//	java -cp /usr/share/java/gson.jar QuPathReader.java export.geojson
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

public class QuPathReader {
	static Gson gson = new GsonBuilder().setLenient().serializeSpecialFloatingPointValues().create();

	static class PathClassProxy {
		List<String> names;
		String name;
		int[] color;
	}

	public static void main(String[] args) throws Exception {
		JsonObject obj = gson.fromJson(Files.readString(Path.of(args[0])), JsonObject.class);
		StringBuilder out = new StringBuilder();
		if (obj.has("features") && obj.get("features").isJsonArray()) {
			for (JsonElement element : obj.get("features").getAsJsonArray())
				parseObject(element.getAsJsonObject(), out);
		}
		System.out.print(out);
	}

	static void parseObject(JsonObject obj, StringBuilder out) {
		String type = "unknown";
		UUID uuid = null;
		if (obj.has("id")) {
			String id = obj.get("id").getAsString();
			try {
				uuid = UUID.fromString(id);
			} catch (Exception e) {
				// QuPath logs "Invalid ID found in GeoJSON" and goes on
			}
		}
		JsonObject geometry = obj.get("geometry").getAsJsonObject();
		geometry.get("type").getAsString();
		geometry.get("coordinates").getAsJsonArray();

		String name = null;
		List<String> pathClass = null;
		Map<String, Double> measurements = new LinkedHashMap<>();
		Map<String, String> metadata = new TreeMap<>();
		List<JsonObject> children = new ArrayList<>();
		if (obj.has("properties")) {
			JsonObject properties = obj.get("properties").getAsJsonObject();
			if (properties.has("name"))
				name = properties.get("name").getAsString();
			if (properties.has("color")) {
				JsonElement color = properties.get("color");
				if (color.isJsonPrimitive())
					color.getAsInt();
				else if (color.isJsonArray() && color.getAsJsonArray().size() == 3)
					for (JsonElement c : color.getAsJsonArray())
						c.getAsInt();
			}
			if (properties.has("classification"))
				pathClass = pathClass(properties.get("classification"));
			for (String flag : new String[] {"isMissing", "isLocked"})
				if (properties.has(flag) && properties.get(flag).isJsonPrimitive())
					properties.get(flag).getAsBoolean();
			if (properties.has("measurements") && (properties.get("measurements").isJsonArray() || properties.get("measurements").isJsonObject()))
				measurements = measurementList(properties.get("measurements"));
			if (properties.has("metadata") && properties.get("metadata").isJsonObject())
				for (Map.Entry<String, JsonElement> entry : properties.get("metadata").getAsJsonObject().entrySet())
					if (entry.getValue().isJsonPrimitive())
						metadata.put(entry.getKey(), entry.getValue().getAsString());
			if (properties.has("objectType"))
				type = properties.get("objectType").getAsString();
			else if (properties.has("object_type"))
				type = properties.get("object_type").getAsString();
			else if (properties.has("type"))
				type = properties.get("type").getAsString();
			String childObjects = properties.has("childObjects") ? "childObjects" : "children";
			if (properties.has(childObjects) && properties.get(childObjects).isJsonArray())
				for (JsonElement child : properties.get(childObjects).getAsJsonArray())
					children.add(child.getAsJsonObject());
		}
		Map<String, Object> line = new LinkedHashMap<>();
		line.put("id", uuid == null ? null : uuid.toString());
		line.put("type", type);
		line.put("name", name);
		line.put("class", pathClass);
		line.put("measurements", measurements);
		line.put("metadata", metadata);
		out.append(gson.toJson(line)).append('\n');
		for (JsonObject child : children)
			parseObject(child, out);
	}

	// MeasurementListTypeAdapter.read, then MeasurementList.putAll, which unboxes each value
	// as a number.
	@SuppressWarnings("unchecked")
	static Map<String, Double> measurementList(JsonElement e) {
		Map<String, Double> list = new LinkedHashMap<>();
		if (e.isJsonArray()) {
			for (JsonElement m : e.getAsJsonArray()) {
				JsonObject o = m.getAsJsonObject();
				list.put(o.get("name").getAsString(), o.get("value").getAsDouble());
			}
			return list;
		}
		Map<String, Double> map = gson.fromJson(e, Map.class);
		for (Map.Entry<String, Double> entry : map.entrySet())
			list.put(entry.getKey(), entry.getValue().doubleValue());
		return list;
	}

	// GsonTools.PathClassTypeAdapter.read; the class as its names, base class first.
	static List<String> pathClass(JsonElement e) {
		if (e.isJsonNull())
			return null;
		if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())
			return fromString(e.getAsString());
		if (e.isJsonObject()) {
			JsonObject o = e.getAsJsonObject();
			if (o.size() == 0 || o.has("colorRGB") || o.has("parentClass"))
				return null;
			if ((o.has("name") || o.has("names")) && o.has("color")) {
				PathClassProxy proxy = gson.fromJson(o, PathClassProxy.class);
				int[] rgb = proxy.color;
				if (rgb != null && rgb.length != 0 && rgb.length != 1 && rgb.length != 3 && rgb.length != 4)
					throw new IllegalArgumentException("RGB array should have length 0, 1, 3 or 4 - not " + rgb.length);
				if (proxy.name == null) {
					if (proxy.names == null || proxy.names.isEmpty())
						return null;
					return fromCollection(proxy.names);
				}
				return fromString(proxy.name);
			}
		}
		throw new JsonParseException("Unable to parse PathClass from " + e);
	}

	// PathClass.fromString: names split at the delimiter ":" and stripped.
	static List<String> fromString(String s) {
		List<String> names = new ArrayList<>();
		for (String n : s.split(":"))
			names.add(n.strip());
		return fromCollection(names);
	}

	// PathClass.fromCollection, through getInstance(parent, name, color), which refuses a
	// name containing the delimiter.
	static List<String> fromCollection(List<String> names) {
		for (String n : names)
			if (n != null && n.contains(":"))
				throw new IllegalArgumentException(String.format("Name '%s' contains the delimiter '%s' - please use a valid name or getInstanceFromString()", n, ":"));
		return names;
	}
}
