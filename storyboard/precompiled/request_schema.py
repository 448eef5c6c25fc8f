# Generated from schemas/kling-o3.request.schema.json by `python -m storyboard.precompiled.generate`
# (fastjsonschema 2.22.3). Do not edit.
# ruff: noqa
# mypy: ignore-errors
SCHEMA_SHA256 = "fd00eefcdf1546622b45e740ff8e7ad6572356ebf56ddc05d6e1bfbd7073cbca"
VERSION = "2.22.3"
from decimal import Decimal
import re
from storyboard.precompiled import JsonSchemaValueException, JsonSchemaValuesException  # noqa: F401


REGEX_PATTERNS = {
    'uri_re_pattern': re.compile('^\\w+:(\\/?\\/?)[^\\s]+\\Z')
}

NoneType = type(None)

def validate_https___storyboard_dev_schemas_kling_o3_request_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object", value=data, name="" + (name_prefix or "data") + "", definition={'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://storyboard.dev/schemas/kling-o3.request.schema.json', 'type': 'object', 'additionalProperties': False, 'required': ['model', 'args'], 'properties': {'model': {'const': 'kwaivgi/kling-o3/text-to-video'}, 'callback_url': {'type': 'string', 'format': 'uri'}, 'args': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}}}, rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['model', 'args']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain " + (str(sorted(data__missing_keys)) + " properties"), value=data, name="" + (name_prefix or "data") + "", definition={'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://storyboard.dev/schemas/kling-o3.request.schema.json', 'type': 'object', 'additionalProperties': False, 'required': ['model', 'args'], 'properties': {'model': {'const': 'kwaivgi/kling-o3/text-to-video'}, 'callback_url': {'type': 'string', 'format': 'uri'}, 'args': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}}}, rule='required')
        data_keys = set(data.keys())
        if "model" in data_keys:
            data_keys.remove("model")
            data__model = data["model"]
            if not (isinstance(data__model, str) and data__model == 'kwaivgi/kling-o3/text-to-video'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".model must be same as const definition: kwaivgi/kling-o3/text-to-video", value=data__model, name="" + (name_prefix or "data") + ".model", definition={'const': 'kwaivgi/kling-o3/text-to-video'}, rule='const')
        if "callback_url" in data_keys:
            data_keys.remove("callback_url")
            data__callbackurl = data["callback_url"]
            if not isinstance(data__callbackurl, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".callback_url must be string", value=data__callbackurl, name="" + (name_prefix or "data") + ".callback_url", definition={'type': 'string', 'format': 'uri'}, rule='type')
            if isinstance(data__callbackurl, str):
                if not REGEX_PATTERNS["uri_re_pattern"].match(data__callbackurl):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".callback_url must be uri", value=data__callbackurl, name="" + (name_prefix or "data") + ".callback_url", definition={'type': 'string', 'format': 'uri'}, rule='format')
        if "args" in data_keys:
            data_keys.remove("args")
            data__args = data["args"]
            if not isinstance(data__args, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must be object", value=data__args, name="" + (name_prefix or "data") + ".args", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}, rule='type')
            try:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['multi_shot']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, rule='required')
                    data__args_keys = set(data__args.keys())
                    if "multi_shot" in data__args_keys:
                        data__args_keys.remove("multi_shot")
                        data__args__multishot = data__args["multi_shot"]
                        if not (isinstance(data__args__multishot, bool) and data__args__multishot is True):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_shot must be same as const definition: True", value=data__args__multishot, name="" + (name_prefix or "data") + ".args.multi_shot", definition={'const': True}, rule='const')
            except (JsonSchemaValueException, JsonSchemaValuesException):
                try:
                    data__args_any_of_count1 = 0
                    if not data__args_any_of_count1:
                        try:
                            data__args_is_dict = isinstance(data__args, dict)
                            if data__args_is_dict:
                                data__args__missing_keys = set(['shot_type']) - data__args.keys()
                                if data__args__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'required': ['shot_type']}, rule='required')
                            data__args_any_of_count1 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__args_any_of_count1:
                        try:
                            data__args_is_dict = isinstance(data__args, dict)
                            if data__args_is_dict:
                                data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                                if data__args__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'required': ['multi_prompt']}, rule='required')
                            data__args_any_of_count1 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__args_any_of_count1:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args cannot be validated by any definition", value=data__args, name="" + (name_prefix or "data") + ".args", definition={'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}, rule='anyOf')
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
                else:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must NOT match a disallowed definition", value=data__args, name="" + (name_prefix or "data") + ".args", definition={'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}, rule='not')
            else:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['shot_type']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'required': ['shot_type']}, rule='required')
            try:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['shot_type']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, rule='required')
                    data__args_keys = set(data__args.keys())
                    if "shot_type" in data__args_keys:
                        data__args_keys.remove("shot_type")
                        data__args__shottype = data__args["shot_type"]
                        if not (isinstance(data__args__shottype, str) and data__args__shottype == 'customize'):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.shot_type must be same as const definition: customize", value=data__args__shottype, name="" + (name_prefix or "data") + ".args.shot_type", definition={'const': 'customize'}, rule='const')
            except (JsonSchemaValueException, JsonSchemaValuesException):
                try:
                    data__args_is_dict = isinstance(data__args, dict)
                    if data__args_is_dict:
                        data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                        if data__args__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'required': ['multi_prompt']}, rule='required')
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
                else:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must NOT match a disallowed definition", value=data__args, name="" + (name_prefix or "data") + ".args", definition={'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}, rule='not')
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args_keys = set(data__args.keys())
                    if "prompt" in data__args_keys:
                        data__args_keys.remove("prompt")
                        data__args__prompt = data__args["prompt"]
                        if isinstance(data__args__prompt, str):
                            data__args__prompt_len = len(data__args__prompt)
                            if data__args__prompt_len < 1:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be longer than or equal to 1 characters", value=data__args__prompt, name="" + (name_prefix or "data") + ".args.prompt", definition={'minLength': 1}, rule='minLength')
            else:
                data__args_is_dict = isinstance(data__args, dict)
                if data__args_is_dict:
                    data__args__missing_keys = set(['multi_prompt']) - data__args.keys()
                    if data__args__missing_keys:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'required': ['multi_prompt']}, rule='required')
            data__args_is_dict = isinstance(data__args, dict)
            if data__args_is_dict:
                data__args__missing_keys = set(['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot']) - data__args.keys()
                if data__args__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must contain " + (str(sorted(data__args__missing_keys)) + " properties"), value=data__args, name="" + (name_prefix or "data") + ".args", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}, rule='required')
                data__args_keys = set(data__args.keys())
                if "prompt" in data__args_keys:
                    data__args_keys.remove("prompt")
                    data__args__prompt = data__args["prompt"]
                    if not isinstance(data__args__prompt, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be string", value=data__args__prompt, name="" + (name_prefix or "data") + ".args.prompt", definition={'type': 'string', 'maxLength': 2500}, rule='type')
                    if isinstance(data__args__prompt, str):
                        data__args__prompt_len = len(data__args__prompt)
                        if data__args__prompt_len > 2500:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.prompt must be shorter than or equal to 2500 characters", value=data__args__prompt, name="" + (name_prefix or "data") + ".args.prompt", definition={'type': 'string', 'maxLength': 2500}, rule='maxLength')
                if "mode" in data__args_keys:
                    data__args_keys.remove("mode")
                    data__args__mode = data__args["mode"]
                    if not (isinstance(data__args__mode, str) and data__args__mode == 'std' or isinstance(data__args__mode, str) and data__args__mode == 'pro'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.mode must be one of ['std', 'pro']", value=data__args__mode, name="" + (name_prefix or "data") + ".args.mode", definition={'enum': ['std', 'pro']}, rule='enum')
                if "duration" in data__args_keys:
                    data__args_keys.remove("duration")
                    data__args__duration = data__args["duration"]
                    if not isinstance(data__args__duration, (int)) and not (isinstance(data__args__duration, float) and data__args__duration.is_integer()) or isinstance(data__args__duration, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be integer", value=data__args__duration, name="" + (name_prefix or "data") + ".args.duration", definition={'type': 'integer', 'minimum': 3, 'maximum': 15}, rule='type')
                    if isinstance(data__args__duration, (int, float, Decimal)) and not isinstance(data__args__duration, bool):
                        if data__args__duration < 3:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be bigger than or equal to 3", value=data__args__duration, name="" + (name_prefix or "data") + ".args.duration", definition={'type': 'integer', 'minimum': 3, 'maximum': 15}, rule='minimum')
                        if data__args__duration > 15:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.duration must be smaller than or equal to 15", value=data__args__duration, name="" + (name_prefix or "data") + ".args.duration", definition={'type': 'integer', 'minimum': 3, 'maximum': 15}, rule='maximum')
                if "aspect_ratio" in data__args_keys:
                    data__args_keys.remove("aspect_ratio")
                    data__args__aspectratio = data__args["aspect_ratio"]
                    if not (isinstance(data__args__aspectratio, str) and data__args__aspectratio == '16:9' or isinstance(data__args__aspectratio, str) and data__args__aspectratio == '1:1' or isinstance(data__args__aspectratio, str) and data__args__aspectratio == '9:16'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.aspect_ratio must be one of ['16:9', '1:1', '9:16']", value=data__args__aspectratio, name="" + (name_prefix or "data") + ".args.aspect_ratio", definition={'enum': ['16:9', '1:1', '9:16']}, rule='enum')
                if "sound" in data__args_keys:
                    data__args_keys.remove("sound")
                    data__args__sound = data__args["sound"]
                    if not (isinstance(data__args__sound, str) and data__args__sound == 'on' or isinstance(data__args__sound, str) and data__args__sound == 'off'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.sound must be one of ['on', 'off']", value=data__args__sound, name="" + (name_prefix or "data") + ".args.sound", definition={'enum': ['on', 'off']}, rule='enum')
                if "multi_shot" in data__args_keys:
                    data__args_keys.remove("multi_shot")
                    data__args__multishot = data__args["multi_shot"]
                    if not isinstance(data__args__multishot, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_shot must be boolean", value=data__args__multishot, name="" + (name_prefix or "data") + ".args.multi_shot", definition={'type': 'boolean'}, rule='type')
                if "shot_type" in data__args_keys:
                    data__args_keys.remove("shot_type")
                    data__args__shottype = data__args["shot_type"]
                    if not (isinstance(data__args__shottype, str) and data__args__shottype == 'intelligence' or isinstance(data__args__shottype, str) and data__args__shottype == 'customize'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.shot_type must be one of ['intelligence', 'customize']", value=data__args__shottype, name="" + (name_prefix or "data") + ".args.shot_type", definition={'enum': ['intelligence', 'customize']}, rule='enum')
                if "multi_prompt" in data__args_keys:
                    data__args_keys.remove("multi_prompt")
                    data__args__multiprompt = data__args["multi_prompt"]
                    if not isinstance(data__args__multiprompt, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must be array", value=data__args__multiprompt, name="" + (name_prefix or "data") + ".args.multi_prompt", definition={'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}, rule='type')
                    data__args__multiprompt_is_list = isinstance(data__args__multiprompt, (list, tuple))
                    if data__args__multiprompt_is_list:
                        data__args__multiprompt_len = len(data__args__multiprompt)
                        if data__args__multiprompt_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must contain at least 1 items", value=data__args__multiprompt, name="" + (name_prefix or "data") + ".args.multi_prompt", definition={'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}, rule='minItems')
                        if data__args__multiprompt_len > 6:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt must contain less than or equal to 6 items", value=data__args__multiprompt, name="" + (name_prefix or "data") + ".args.multi_prompt", definition={'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}, rule='maxItems')
                        for data__args__multiprompt_x, data__args__multiprompt_item in enumerate(data__args__multiprompt):
                            if not isinstance(data__args__multiprompt_item, (dict)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must be object", value=data__args__multiprompt_item, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + "", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}, rule='type')
                            data__args__multiprompt_item_is_dict = isinstance(data__args__multiprompt_item, dict)
                            if data__args__multiprompt_item_is_dict:
                                data__args__multiprompt_item__missing_keys = set(['prompt', 'duration']) - data__args__multiprompt_item.keys()
                                if data__args__multiprompt_item__missing_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must contain " + (str(sorted(data__args__multiprompt_item__missing_keys)) + " properties"), value=data__args__multiprompt_item, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + "", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}, rule='required')
                                data__args__multiprompt_item_keys = set(data__args__multiprompt_item.keys())
                                if "prompt" in data__args__multiprompt_item_keys:
                                    data__args__multiprompt_item_keys.remove("prompt")
                                    data__args__multiprompt_item__prompt = data__args__multiprompt_item["prompt"]
                                    if not isinstance(data__args__multiprompt_item__prompt, (str)):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be string", value=data__args__multiprompt_item__prompt, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + "", definition={'type': 'string', 'minLength': 1, 'maxLength': 512}, rule='type')
                                    if isinstance(data__args__multiprompt_item__prompt, str):
                                        data__args__multiprompt_item__prompt_len = len(data__args__multiprompt_item__prompt)
                                        if data__args__multiprompt_item__prompt_len < 1:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be longer than or equal to 1 characters", value=data__args__multiprompt_item__prompt, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + "", definition={'type': 'string', 'minLength': 1, 'maxLength': 512}, rule='minLength')
                                        if data__args__multiprompt_item__prompt_len > 512:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + " must be shorter than or equal to 512 characters", value=data__args__multiprompt_item__prompt, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].prompt".format(**locals()) + "", definition={'type': 'string', 'minLength': 1, 'maxLength': 512}, rule='maxLength')
                                if "duration" in data__args__multiprompt_item_keys:
                                    data__args__multiprompt_item_keys.remove("duration")
                                    data__args__multiprompt_item__duration = data__args__multiprompt_item["duration"]
                                    if not isinstance(data__args__multiprompt_item__duration, (int)) and not (isinstance(data__args__multiprompt_item__duration, float) and data__args__multiprompt_item__duration.is_integer()) or isinstance(data__args__multiprompt_item__duration, bool):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be integer", value=data__args__multiprompt_item__duration, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + "", definition={'type': 'integer', 'minimum': 1, 'maximum': 15}, rule='type')
                                    if isinstance(data__args__multiprompt_item__duration, (int, float, Decimal)) and not isinstance(data__args__multiprompt_item__duration, bool):
                                        if data__args__multiprompt_item__duration < 1:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be bigger than or equal to 1", value=data__args__multiprompt_item__duration, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + "", definition={'type': 'integer', 'minimum': 1, 'maximum': 15}, rule='minimum')
                                        if data__args__multiprompt_item__duration > 15:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + " must be smaller than or equal to 15", value=data__args__multiprompt_item__duration, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}].duration".format(**locals()) + "", definition={'type': 'integer', 'minimum': 1, 'maximum': 15}, rule='maximum')
                                if data__args__multiprompt_item_keys:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + " must not contain "+str(data__args__multiprompt_item_keys)+" properties", value=data__args__multiprompt_item, name="" + (name_prefix or "data") + ".args.multi_prompt[{data__args__multiprompt_x}]".format(**locals()) + "", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}, rule='additionalProperties')
                if data__args_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".args must not contain "+str(data__args_keys)+" properties", value=data__args, name="" + (name_prefix or "data") + ".args", definition={'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}, rule='additionalProperties')
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties", value=data, name="" + (name_prefix or "data") + "", definition={'$schema': 'https://json-schema.org/draft/2020-12/schema', '$id': 'https://storyboard.dev/schemas/kling-o3.request.schema.json', 'type': 'object', 'additionalProperties': False, 'required': ['model', 'args'], 'properties': {'model': {'const': 'kwaivgi/kling-o3/text-to-video'}, 'callback_url': {'type': 'string', 'format': 'uri'}, 'args': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'mode', 'duration', 'aspect_ratio', 'sound', 'multi_shot'], 'properties': {'prompt': {'type': 'string', 'maxLength': 2500}, 'mode': {'enum': ['std', 'pro']}, 'duration': {'type': 'integer', 'minimum': 3, 'maximum': 15}, 'aspect_ratio': {'enum': ['16:9', '1:1', '9:16']}, 'sound': {'enum': ['on', 'off']}, 'multi_shot': {'type': 'boolean'}, 'shot_type': {'enum': ['intelligence', 'customize']}, 'multi_prompt': {'type': 'array', 'minItems': 1, 'maxItems': 6, 'items': {'type': 'object', 'additionalProperties': False, 'required': ['prompt', 'duration'], 'properties': {'prompt': {'type': 'string', 'minLength': 1, 'maxLength': 512}, 'duration': {'type': 'integer', 'minimum': 1, 'maximum': 15}}}}}, 'allOf': [{'if': {'properties': {'multi_shot': {'const': True}}, 'required': ['multi_shot']}, 'then': {'required': ['shot_type']}, 'else': {'not': {'anyOf': [{'required': ['shot_type']}, {'required': ['multi_prompt']}]}}}, {'if': {'properties': {'shot_type': {'const': 'customize'}}, 'required': ['shot_type']}, 'then': {'required': ['multi_prompt']}, 'else': {'properties': {'prompt': {'minLength': 1}}, 'not': {'required': ['multi_prompt']}}}]}}}, rule='additionalProperties')
    return data


validate = validate_https___storyboard_dev_schemas_kling_o3_request_schema_json
